"""Places: UK towns and postcode districts, reading what people type, the place cache.

place (a place and distances), names (names as comparison keys), postcodes (typed postcodes
and the districts' CSV), cache (the GeoNames towns, extracted in a child process), gazetteer
(town search and the locator), spatial (the one spatial index: PointGrid), words (typed text
that is not a place).
"""
