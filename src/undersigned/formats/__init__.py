"""Date formats per language, over Django's own (FORMAT_MODULE_PATH in settings).

Templates name a format ("DATE_FORMAT") instead of spelling one out, so that
each language gets its own word order and grammar: a Russian day and month
take the genitive ("21 ноября"), which Django's "M" and "F" never give.
"""
