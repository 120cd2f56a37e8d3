"""The collection wing (``llmcompression-collect``): fetching the files fresh corpora are built
from (Common Crawl WET files, GitHub repositories, arXiv sources and metadata), politely, whole,
resumably, each recorded in the folder's ``collection.json``."""
