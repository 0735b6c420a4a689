# Day first and short month names, as in "21 Nov 2026": unambiguous on both
# sides of the Atlantic, and short enough for a chart's labels.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
