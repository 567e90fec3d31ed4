"""Staff publications as text: the grammars of their three page types and how observations meet.

* :mod:`~caci_spider.staff.kinds` – the type labels ("Silk Road Paper", "Analysis", …).
* :mod:`~caci_spider.staff.sidebar` – a sidebar line, part by part (``SIDEBAR_PARTS``).
* :mod:`~caci_spider.staff.lines` – the header lines of a listing entry or item page, form by
  form (``LINE_FORMS``).
* :mod:`~caci_spider.staff.precedence` – one observation meeting another: listing entry and item
  page in the spider, stored row and new observation in the store.

Names, dates and the normaliser are the project's text rules (:mod:`caci_spider.names`,
:mod:`caci_spider.dates`, :mod:`caci_spider.text`); the HTML is read in
:mod:`caci_spider.pages.staff`.
"""
