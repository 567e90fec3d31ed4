"""caci_spider: a Scrapy crawler for the Central Asia-Caucasus Analyst."""

__version__ = "0.1.0"
