"""The consistency checker: parse a history, order each key's writes, judge the properties."""
