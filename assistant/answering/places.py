"""Countries under their other names: news says "Washington" for the U.S. government, "Moscow" for
Russia's, "German" for Germany's. A question naming a country one way is about a passage naming it
another, so the named-thing constraint (`constraints.py`) accepts any of them.

The names come from countryinfo's country data (MIT): the common and official names, the capital,
the demonym, the two-letter code written with dots ("U.S.", "U.K.") and three-letter codes in
capitals ("USA"); NEWS_NAMES adds the few names news uses that the data lacks. Bare two-letter
codes ("IN", "IT", "ME") are too often words to count, save "US" and "UK".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# Names news uses that the data lacks or shares with territories, each with the country's name
NEWS_NAMES = {"America": "United States", "US": "United States", "Britain": "United Kingdom"}


@dataclass(frozen=True)
class Country:
    names: frozenset[str]  # lower-cased: matched in any case
    codes: frozenset[str]  # matched as written ("US", "USA")

    @functools.cached_property
    def pattern(self) -> re.Pattern:
        """Any of the country's names as a whole word, in the text as written."""
        names = "|".join(re.escape(n) for n in sorted(self.names, key=len, reverse=True))
        codes = "|".join(re.escape(c) for c in sorted(self.codes, key=len, reverse=True))
        spelled = f"(?i:{names})"
        return re.compile(
            rf"(?<![\w.])(?:{spelled}|{codes})(?![\w])" if codes else rf"(?<![\w.]){spelled}(?!\w)"
        )


def country_of(name: str) -> Country | None:
    """The country a name (a country, capital, demonym or code) stands for, if it stands for one."""
    name = name.strip()
    names, codes = _countries()
    if name in codes:
        return codes[name]
    return names.get(name.lower())


def mentions_country(name: str, text: str) -> bool:
    """Does the text (as written) name the country `name` stands for, under any of its names?"""
    country = country_of(name)
    return bool(country and country.pattern.search(text))


@functools.cache
def _countries() -> tuple[dict[str, Country], dict[str, Country]]:
    """Every name (lower-cased) and code (as written) of every country, each pointing at its
    country. A name two countries share ("Congo") stands for neither."""
    from countryinfo import all_countries  # ~30 ms, read once the first time a question names a place

    names_of: dict[str, Country] = {}
    codes_of: dict[str, Country] = {}
    shared: set[str] = set()
    for info in all_countries():
        names = {info.name(), info.demonym() or ""}
        capitals = info.capital() or []
        for capital in [capitals] if isinstance(capitals, str) else capitals:
            names |= {capital, re.sub(r",.*| D\.?C\.?$", "", capital)}  # "Washington D.C.": "Washington"
        spellings = [s for s in info.alt_spellings() if s.isascii()]
        code = info.iso(2) or ""
        codes = {s for s in spellings if s.isupper() and len(s) <= 3}
        names |= set(spellings) - codes
        codes = {c for c in codes if len(c) == 3 or c != code}  # "UK", not "GB", "IN" or "IT"
        if len(code) == 2:
            names.add(f"{code[0]}.{code[1]}.")  # "U.S.", "U.K."
        country = Country(frozenset(n.lower() for n in names if len(n) > 2), frozenset(codes))
        for table, keys in ((names_of, country.names), (codes_of, country.codes)):
            for key in keys:
                if table.get(key, country) is not country:
                    shared.add(key)
                table[key] = country
    for key in shared:
        names_of.pop(key, None)
        codes_of.pop(key, None)
    for name, country_name in NEWS_NAMES.items():
        country = names_of[country_name.lower()]
        if name.isupper():
            extended = Country(country.names, country.codes | {name})
        else:
            extended = Country(country.names | {name.lower()}, country.codes)
        for table in (names_of, codes_of):
            for key, found in table.items():
                if found is country:
                    table[key] = extended
        if name.isupper():
            codes_of[name] = extended
        else:
            names_of[name.lower()] = extended
    return names_of, codes_of
