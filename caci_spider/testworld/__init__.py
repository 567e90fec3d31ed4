"""The test world: what the crawler is tested against, kept out of what it ships.

The local K2 sites (:mod:`caci_spider.testworld.localsite`), the demo's expectations
(:mod:`caci_spider.testworld.demo`), the fixture catalogue (:mod:`caci_spider.testworld.fixtures`)
and the draft tool (:mod:`caci_spider.testworld.draft`) read the checkout's ``fixtures/``
directory, so they run from a checkout only: pyproject.toml leaves this package out of the wheel
and of the Scrapyd egg (tests/test_packaging.py and tests/test_scrapyd.py check that), while an
editable install (``pip install -e .``) imports it from the checkout.
"""
