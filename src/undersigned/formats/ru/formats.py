# "21 ноября 2026": the month in the genitive ("E"). Django's Russian formats
# add "г." after the year, and its MONTH_DAY_FORMAT ("j F") gives the
# nominative, "21 Ноябрь", which is wrong.
DATE_FORMAT = "j E Y"
DATETIME_FORMAT = "j E Y, H:i"
MONTH_DAY_FORMAT = "j E"
