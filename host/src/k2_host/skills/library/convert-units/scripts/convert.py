"""Convert a quantity from one unit to another, exactly where the units are defined exactly.

Usage:
    python3 convert.py < request.txt

The request is free-form English: "5 miles in km", "how many ounces is 2 kg", "72F to C", "3 GiB in bytes",
"5 ft 10 in to cm", "170 cm in feet and inches", "30 mpg to L/100km", "a 10 C rise in F".
Dimensions: length, mass, volume, temperature, speed, data size, data rate, time, area, energy, power,
pressure, force, angle, frequency, fuel economy. Arithmetic is done with fractions, so results are exact
unless a unit is defined by an approximate constant (those lines are marked with ~).
Exit 2 (one sentence on stdout) when no quantity, no target unit or no common dimension is found.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction as F


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


# --------------------------------------------------------------------------- the units


@dataclass
class Unit:
    key: str
    dim: str
    symbol: str
    name: str  # plural, for sentences
    factor: F  # base units per one of this unit (for affine/inverse units: the interval factor)
    exact: bool = True
    to_base: Callable[[F], F] | None = None
    from_base: Callable[[F], F] | None = None
    note: str = ""

    def base(self, v: F) -> F:
        return self.to_base(v) if self.to_base else v * self.factor

    def back(self, b: F) -> F:
        return self.from_base(b) if self.from_base else b / self.factor


UNITS: dict[str, Unit] = {}
ALIASES: dict[str, list[str]] = {}  # lower-case alias -> unit keys (in order of preference)
EXACT_CASE: dict[str, list[str]] = {}  # case-sensitive symbols (MB vs Mb, mW vs MW, C, F, K)
BASE_NAMES = {
    "length": "m",
    "mass": "kg",
    "volume": "m3",
    "temperature": "K",
    "speed": "m/s",
    "data": "B",
    "data rate": "B/s",
    "time": "s",
    "area": "m2",
    "energy": "J",
    "power": "W",
    "pressure": "Pa",
    "force": "N",
    "angle": "rad",
    "frequency": "Hz",
    "fuel economy": "km/L",
}


def _alias(table: dict[str, list[str]], alias: str, key: str) -> None:
    keys = table.setdefault(alias, [])
    if key not in keys:
        keys.append(key)


def unit(
    key: str,
    dim: str,
    factor: F | int | str,
    symbol: str,
    name: str,
    aliases: str = "",
    exact_case: str = "",
    *,
    exact: bool = True,
    note: str = "",
    to_base: Callable[[F], F] | None = None,
    from_base: Callable[[F], F] | None = None,
) -> None:
    UNITS[key] = Unit(key, dim, symbol, name, F(factor), exact, to_base, from_base, note)
    words = [a.strip() for a in aliases.split("|") if a.strip()]
    for a in [name, *words]:
        low = a.lower()
        _alias(ALIASES, low, key)
        if "meter" in low:
            _alias(ALIASES, low.replace("meter", "metre"), key)
        if "liter" in low:
            _alias(ALIASES, low.replace("liter", "litre"), key)
        if low.isalpha() and len(low) > 3 and not low.endswith("s"):
            _alias(ALIASES, low + "s", key)
    for a in [x.strip() for x in exact_case.split("|") if x.strip()]:
        _alias(EXACT_CASE, a, key)


PREFIX = {
    "n": ("nano", F(1, 10**9)),
    "u": ("micro", F(1, 10**6)),
    "m": ("milli", F(1, 1000)),
    "c": ("centi", F(1, 100)),
    "d": ("deci", F(1, 10)),
    "h": ("hecto", F(100)),
    "k": ("kilo", F(1000)),
    "M": ("mega", F(10**6)),
    "G": ("giga", F(10**9)),
    "T": ("tera", F(10**12)),
}


def si(
    dim: str, symbol: str, name: str, prefixes: str, base: F | int = 1, extra: str = "", lower_ok: bool = True
) -> None:
    """A unit and its SI-prefixed forms; symbols are matched case-sensitively, lower-case too when unambiguous."""
    plural = "" if name.endswith("z") else "s"
    unit(symbol, dim, base, symbol, name + plural, extra, symbol)
    if lower_ok:
        _alias(ALIASES, symbol.lower(), symbol)
    for p in prefixes:
        word, mult = PREFIX[p]
        sym = ("µ" if p == "u" else p) + symbol
        key = p + symbol
        also = sym + "|u" + symbol if p == "u" else sym
        unit(key, dim, F(base) * mult, sym, word + name + plural, "", also)
        if lower_ok:
            _alias(ALIASES, key.lower(), key)
            if p == "u":
                _alias(ALIASES, sym.lower(), key)


# length (metre)
si("length", "m", "meter", "nmcdk", extra="mtr")
unit("um", "length", F(1, 10**6), "µm", "micrometers", "micron|microns|µm|um")
unit("in", "length", F("0.0254"), "in", "inches", "inch|in|ins|''", '"')
unit("ft", "length", F("0.3048"), "ft", "feet", "foot|ft|feet", "'")
unit("yd", "length", F("0.9144"), "yd", "yards", "yard|yd|yds")
unit("mi", "length", F("1609.344"), "mi", "miles", "mile|mi|statute mile")
unit("nmi", "length", F(1852), "nmi", "nautical miles", "nautical mile|nmi|nm mile")
unit("mil", "length", F("0.0000254"), "mil", "mils", "thou|mil")
unit("furlong", "length", F("201.168"), "furlong", "furlongs")
unit("fathom", "length", F("1.8288"), "fathom", "fathoms")
unit("angstrom", "length", F(1, 10**10), "Å", "ångströms", "angstrom|ångström|Å")
unit("au", "length", F(149597870700), "au", "astronomical units", "astronomical unit|au|a.u.")
unit("ly", "length", F(9460730472580800), "ly", "light-years", "light year|light-year|light years|ly|lightyear")
unit("pc", "length", F("30856775814913673"), "pc", "parsecs", "parsec|pc", exact=False)
# mass (kilogram)
unit("kg", "mass", 1, "kg", "kilograms", "kilogram|kilo|kilos|kgs|kg")
unit("g", "mass", F(1, 1000), "g", "grams", "gram|gr|gm|gms|g|gramme|grammes")
unit("mg", "mass", F(1, 10**6), "mg", "milligrams", "milligram|mg")
unit("ug", "mass", F(1, 10**9), "µg", "micrograms", "microgram|µg|ug|mcg")
unit("t", "mass", 1000, "t", "tonnes", "tonne|metric ton|metric tons|t|mt")
unit("lb", "mass", F("0.45359237"), "lb", "pounds", "pound|lb|lbs")
unit("oz", "mass", F("0.028349523125"), "oz", "ounces", "ounce|oz|ozs|avoirdupois ounce")
unit("ozt", "mass", F("0.0311034768"), "oz t", "troy ounces", "troy ounce|oz t|ozt|troy oz")
unit("st", "mass", F("6.35029318"), "st", "stone", "stone|stones|st")
unit("ton", "mass", F("907.18474"), "short ton", "short tons (US tons)", "ton|tons|short ton|us ton|us tons")
unit("longton", "mass", F("1016.0469088"), "long ton", "long tons", "long ton|imperial ton|uk ton|uk tons")
unit("grain", "mass", F("0.00006479891"), "gr", "grains", "grain")
unit("ct", "mass", F(1, 5000), "ct", "carats", "carat|ct")
# volume (cubic metre)
unit("m3", "volume", 1, "m³", "cubic meters", "cubic meter|m3|cu m|cbm")
unit("L", "volume", F(1, 1000), "L", "liters", "liter|l|ltr|ltrs", "L")
unit("mL", "volume", F(1, 10**6), "mL", "milliliters", "milliliter|ml|mls", "mL")
unit("cL", "volume", F(1, 10**5), "cL", "centiliters", "centiliter|cl", "cL")
unit("dL", "volume", F(1, 10**4), "dL", "deciliters", "deciliter|dl", "dL")
unit("cm3", "volume", F(1, 10**6), "cm³", "cubic centimeters", "cubic centimeter|cm3|cc|ccs")
unit("mm3", "volume", F(1, 10**9), "mm³", "cubic millimeters", "cubic millimeter|mm3")
unit("in3", "volume", F("0.000016387064"), "in³", "cubic inches", "cubic inch|in3|cu in")
unit("ft3", "volume", F("0.028316846592"), "ft³", "cubic feet", "cubic foot|ft3|cu ft|cf")
unit("yd3", "volume", F("0.764554857984"), "yd³", "cubic yards", "cubic yard|yd3|cu yd")
_GAL = F("0.003785411784")
unit("gal", "volume", _GAL, "gal", "US gallons", "gallon|gal|gals|us gallon|us gal", note="US gallon")
unit("qt", "volume", _GAL / 4, "qt", "US quarts", "quart|qt|qts|us quart", note="US quart")
unit("pt", "volume", _GAL / 8, "pt", "US pints", "pint|pt|pts|us pint", note="US pint")
unit("cup", "volume", _GAL / 16, "cup", "US cups", "cup|cups|us cup|c", note="US cup (1/16 gallon)")
unit("floz", "volume", _GAL / 128, "fl oz", "US fluid ounces", "fluid ounce|fl oz|fl. oz|floz|fl.oz|us fl oz")
unit("tbsp", "volume", _GAL / 256, "tbsp", "tablespoons", "tablespoon|tbsp|tbs|tbl", "T|Tbsp")
unit("tsp", "volume", _GAL / 768, "tsp", "teaspoons", "teaspoon|tsp|tsps")
_IGAL = F("0.00454609")
unit("igal", "volume", _IGAL, "imp gal", "imperial gallons", "imperial gallon|uk gallon|imp gal|british gallon")
unit("ipt", "volume", _IGAL / 8, "imp pt", "imperial pints", "imperial pint|uk pint|imp pt|british pint")
unit("iqt", "volume", _IGAL / 4, "imp qt", "imperial quarts", "imperial quart|uk quart")
unit(
    "ifloz", "volume", _IGAL / 160, "imp fl oz", "imperial fluid ounces", "imperial fluid ounce|uk fl oz|uk fluid ounce"
)
unit("bbl", "volume", _GAL * 42, "bbl", "barrels (oil)", "barrel|bbl|oil barrel|barrels of oil")
# temperature (kelvin)
unit("K", "temperature", 1, "K", "kelvin", "kelvin|kelvins|degrees kelvin|deg k|k", "K")
unit(
    "C",
    "temperature",
    1,
    "°C",
    "degrees Celsius",
    "celsius|centigrade|degrees celsius|degree celsius|degrees c|degree c|deg c|degc|c|°c",
    "C",
    to_base=lambda v: v + F("273.15"),
    from_base=lambda b: b - F("273.15"),
)
unit(
    "F",
    "temperature",
    F(5, 9),
    "°F",
    "degrees Fahrenheit",
    "fahrenheit|degrees fahrenheit|degree fahrenheit|degrees f|degree f|deg f|degf|f|°f|degrees",
    "F",
    to_base=lambda v: (v + F("459.67")) * F(5, 9),
    from_base=lambda b: b * F(9, 5) - F("459.67"),
)
unit("R", "temperature", F(5, 9), "°R", "degrees Rankine", "rankine|degrees rankine|°r", "R")
# speed (metre per second)
unit("m/s", "speed", 1, "m/s", "meters per second", "meter per second|m/s|mps|m/sec|ms-1")
unit("km/h", "speed", F(1000, 3600), "km/h", "kilometers per hour", "kilometer per hour|km/h|kmh|kph|kmph|km/hr")
unit("mph", "speed", F("1609.344") / 3600, "mph", "miles per hour", "mile per hour|mph|mi/h|miles/hour|mi/hr")
unit("kn", "speed", F(1852, 3600), "kn", "knots", "knot|kn|kt|kts")
unit("ft/s", "speed", F("0.3048"), "ft/s", "feet per second", "foot per second|ft/s|fps|ft/sec")
unit("c0", "speed", F(299792458), "c", "times the speed of light", "speed of light|speed of light in vacuum")
unit("mach", "speed", F(343), "Mach", "Mach (343 m/s, air at 20 °C)", "mach", exact=False)
# data size (byte); MB = 10^6 bytes, MiB = 2^20 bytes, Mb/Mbit = 10^6 bits
unit("B", "data", 1, "B", "bytes", "byte|bytes|octet|octets", "B")
unit("bit", "data", F(1, 8), "bit", "bits", "bit|bits", "b")
unit("nibble", "data", F(1, 2), "nibble", "nibbles", "nibble")
unit("bps", "data rate", F(1, 8), "bit/s", "bits per second", "bit per second|bps|bit/s|bits/s", "b/s")
unit("B/s", "data rate", 1, "B/s", "bytes per second", "byte per second|bytes/s", "B/s|Bps")
_DATA_PREFIXES = [("k", "kilo", "Ki", "kibi"), ("M", "mega", "Mi", "mebi"), ("G", "giga", "Gi", "gibi")]
_DATA_PREFIXES += [("T", "tera", "Ti", "tebi"), ("P", "peta", "Pi", "pebi"), ("E", "exa", "Ei", "exbi")]
for _n, (_p, _w, _ip, _iw) in enumerate(_DATA_PREFIXES, 1):
    _up = _p.upper()
    _dec, _bin = 1000**_n, 1024**_n
    # bytes: kB/KB, MB ...; "mb" typed in lower case is read as megabytes (with a note)
    unit(f"{_p}B", "data", _dec, f"{_p}B", _w + "bytes", f"{_w}byte|{_p}b", f"{_p}B|{_up}B")
    unit(f"{_ip}B", "data", _bin, f"{_ip}B", _iw + "bytes", f"{_iw}byte|{_ip.lower()}b", f"{_ip}B")
    # bits: kbit, Mbit (Mb), Gbit (Gb) ...
    unit(f"{_p}bit", "data", F(_dec, 8), f"{_p}bit", _w + "bits", f"{_w}bit|{_p}bit", f"{_up}b|{_p}bit|{_up}bit")
    unit(f"{_ip}bit", "data", F(_bin, 8), f"{_ip}bit", _iw + "bits", f"{_iw}bit|{_ip.lower()}bit", f"{_ip}bit")
    # rates
    unit(
        f"{_p}bps",
        "data rate",
        F(_dec, 8),
        f"{_p}bit/s",
        _w + "bits per second",
        f"{_w}bit per second|{_w}bits/s|{_p}bps|{_p}bit/s",
        f"{_up}b/s|{_p}b/s|{_up}bps|{_up}bit/s",
    )
    unit(
        f"{_p}B/s",
        "data rate",
        _dec,
        f"{_p}B/s",
        _w + "bytes per second",
        f"{_w}byte per second|{_w}bytes/s|{_p}b/s",
        f"{_p}B/s|{_up}B/s|{_p}Bps|{_up}Bps",
    )
    unit(f"{_ip}B/s", "data rate", _bin, f"{_ip}B/s", _iw + "bytes per second", f"{_ip.lower()}b/s", f"{_ip}B/s")
# time (second)
unit("s", "time", 1, "s", "seconds", "second|sec|secs|s|seg")
unit("ms", "time", F(1, 1000), "ms", "milliseconds", "millisecond|ms|msec|msecs")
unit("us", "time", F(1, 10**6), "µs", "microseconds", "microsecond|µs|us|usec")
unit("ns", "time", F(1, 10**9), "ns", "nanoseconds", "nanosecond|ns|nsec")
unit("min", "time", 60, "min", "minutes", "minute|min|mins|mn")
unit("h", "time", 3600, "h", "hours", "hour|h|hr|hrs")
unit("d", "time", 86400, "d", "days", "day|d|dy")
unit("wk", "time", 604800, "wk", "weeks", "week|wk|wks|w")
unit("fortnight", "time", 1209600, "fortnight", "fortnights", "fortnight")
_YEAR = F(31556952)  # Gregorian mean year, 365.2425 days
unit("mo", "time", _YEAR / 12, "mo", "months", "month|mo|mos|mth|mths", note="a month = 1/12 of a Gregorian year")
unit("yr", "time", _YEAR, "yr", "years", "year|yr|yrs|y|annum", note="a year = 365.2425 days (Gregorian mean)")
unit("decade", "time", _YEAR * 10, "decade", "decades", "decade")
unit("century", "time", _YEAR * 100, "century", "centuries", "century|centuries")
# area (square metre)
unit("m2", "area", 1, "m²", "square meters", "square meter|m2|sq m|sqm|sq meter|sq meters|sq. m")
unit("km2", "area", 10**6, "km²", "square kilometers", "square kilometer|km2|sq km|sq kilometer|sqkm")
unit("cm2", "area", F(1, 10**4), "cm²", "square centimeters", "square centimeter|cm2|sq cm")
unit("mm2", "area", F(1, 10**6), "mm²", "square millimeters", "square millimeter|mm2|sq mm")
unit("ha", "area", 10**4, "ha", "hectares", "hectare|ha")
unit("acre", "area", F("4046.8564224"), "ac", "acres", "acre|ac")
unit("ft2", "area", F("0.09290304"), "ft²", "square feet", "square foot|ft2|sq ft|sqft|sq. ft|sq feet|sf")
unit("in2", "area", F("0.00064516"), "in²", "square inches", "square inch|in2|sq in|sq inch|sq inches")
unit("yd2", "area", F("0.83612736"), "yd²", "square yards", "square yard|yd2|sq yd|sq yards")
unit("mi2", "area", F("2589988.110336"), "mi²", "square miles", "square mile|mi2|sq mi|sq mile|sq miles")
# energy (joule)
si("energy", "J", "joule", "kMG", lower_ok=False)
_alias(ALIASES, "j", "J")
_alias(ALIASES, "kj", "kJ")
_alias(ALIASES, "mj", "MJ")
_alias(ALIASES, "gj", "GJ")
unit("cal", "energy", F("4.184"), "cal", "calories (small)", "calorie|cal|small calorie|gram calorie", "cal")
unit("kcal", "energy", 4184, "kcal", "kilocalories", "kilocalorie|kcal|food calorie|food calories", "Cal|kcal")
unit("Wh", "energy", 3600, "Wh", "watt-hours", "watt hour|watt-hour|wh", "Wh")
unit("kWh", "energy", 3600 * 1000, "kWh", "kilowatt-hours", "kilowatt hour|kilowatt-hour|kwh|kw h|kw-h")
unit("MWh", "energy", 3600 * 10**6, "MWh", "megawatt-hours", "megawatt hour|megawatt-hour|mwh")
unit("GWh", "energy", 3600 * 10**9, "GWh", "gigawatt-hours", "gigawatt hour|gigawatt-hour|gwh")
unit("btu", "energy", F("1055.05585262"), "BTU", "BTU (IT)", "british thermal unit|btu|btus")
unit("therm", "energy", F(105480400), "thm", "therms (US)", "therm|thm")
unit("eV", "energy", F("1.602176634e-19"), "eV", "electronvolts", "electronvolt|electron volt|ev", "eV")
unit("erg", "energy", F(1, 10**7), "erg", "ergs", "erg")
unit(
    "ftlbf",
    "energy",
    F("1.3558179483314004"),
    "ft·lbf",
    "foot-pounds",
    "foot-pound|foot pound|ft-lb|ft lb|ft·lbf|ft-lbf",
)
unit("tnt", "energy", F(4184 * 10**6), "t TNT", "tons of TNT", "ton of tnt|tons of tnt|tonne of tnt")
# power (watt)
si("power", "W", "watt", "mkMG", lower_ok=False)
for a, k in [("w", "W"), ("kw", "kW"), ("mw", "MW"), ("gw", "GW")]:
    _alias(ALIASES, a, k)
unit("hp", "power", F("745.69987158227022"), "hp", "horsepower (mechanical)", "horsepower|hp|bhp|mechanical horsepower")
unit("PS", "power", F("735.49875"), "PS", "metric horsepower", "metric horsepower|ps|cv|pferdestärke")
unit("btu/h", "power", F("1055.05585262") / 3600, "BTU/h", "BTU per hour", "btu/h|btu/hr|btuh|btu per hour")
unit("TR", "power", F("1055.05585262") * 12000 / 3600, "TR", "tons of refrigeration", "ton of refrigeration|rt")
# pressure (pascal)
si("pressure", "Pa", "pascal", "hkMG", lower_ok=False)
for a, k in [("pa", "Pa"), ("hpa", "hPa"), ("kpa", "kPa"), ("mpa", "MPa"), ("gpa", "GPa")]:
    _alias(ALIASES, a, k)
unit("bar", "pressure", 10**5, "bar", "bar", "bar|bars")
unit("mbar", "pressure", 100, "mbar", "millibar", "millibar|millibars|mbar|mb")
unit("atm", "pressure", 101325, "atm", "standard atmospheres", "atmosphere|atm|atmospheres")
unit(
    "psi",
    "pressure",
    F("0.45359237") * F("9.80665") / F("0.0254") ** 2,
    "psi",
    "psi",
    "psi|lbf/in2|pounds per square inch",
)
unit("ksi", "pressure", F("0.45359237") * F("9.80665") / F("0.0254") ** 2 * 1000, "ksi", "ksi", "ksi")
unit("torr", "pressure", F(101325, 760), "Torr", "torr", "torr")
unit("mmHg", "pressure", F("133.322387415"), "mmHg", "millimeters of mercury", "mmhg|mm hg|millimeter of mercury")
unit("inHg", "pressure", F("3386.389"), "inHg", "inches of mercury", "inhg|in hg|inch of mercury", exact=False)
unit("inH2O", "pressure", F("249.08891"), "inH2O", "inches of water", "inh2o|in h2o|inch of water", exact=False)
# force (newton)
si("force", "N", "newton", "k", lower_ok=False)
_alias(ALIASES, "kn force", "kN")
unit("lbf", "force", F("0.45359237") * F("9.80665"), "lbf", "pounds-force", "pound-force|pound force|lbf")
unit("kgf", "force", F("9.80665"), "kgf", "kilograms-force", "kilogram-force|kilogram force|kgf|kp")
unit("dyn", "force", F(1, 10**5), "dyn", "dynes", "dyne|dyn")
# angle (radian)
_PI = F(math.pi)
unit("rad", "angle", 1, "rad", "radians", "radian|rad|rads")
unit("deg", "angle", _PI / 180, "deg", "degrees", "degree|deg|degs|degrees of arc|degrees", exact=False)
unit("grad", "angle", _PI / 200, "gon", "gradians", "gradian|grad|gon|grads", exact=False)
unit("arcmin", "angle", _PI / 10800, "arcmin", "arcminutes", "arcminute|arcmin|minute of arc|arc minute", exact=False)
unit("arcsec", "angle", _PI / 648000, "arcsec", "arcseconds", "arcsecond|arcsec|second of arc|arc second", exact=False)
unit("turn", "angle", _PI * 2, "turn", "turns", "turn|revolution|rev|revs|full circle", exact=False)
# frequency (hertz)
si("frequency", "Hz", "hertz", "kMGT", lower_ok=False)
for a, k in [("hz", "Hz"), ("khz", "kHz"), ("mhz", "MHz"), ("ghz", "GHz"), ("thz", "THz"), ("hertz", "Hz")]:
    _alias(ALIASES, a, k)
unit("rpm", "frequency", F(1, 60), "rpm", "revolutions per minute", "rpm|rev/min|revolutions per minute|r/min")
# fuel economy (kilometres per litre); L/100 km is the inverse
_MPG = F("1.609344") / _GAL / 1000
unit("kmpl", "fuel economy", 1, "km/L", "kilometers per liter", "km/l|kmpl|kpl|km per liter|kilometer per liter")
unit("mpg", "fuel economy", _MPG, "mpg", "miles per US gallon", "mpg|miles per gallon|mpg us|us mpg|mi/gal")
unit(
    "mpgimp",
    "fuel economy",
    F("1.609344") / _IGAL / 1000,
    "mpg (imp)",
    "miles per imperial gallon",
    "mpg imperial|imperial mpg|uk mpg|mpg uk|mpg (imperial)|mpg (uk)|mpg imp",
)


def _inverse_to(v: F) -> F:
    if v == 0:
        raise Refusal("0 L/100 km has no equivalent in distance per volume; give a positive consumption.")
    return F(100) / v


unit(
    "l100",
    "fuel economy",
    1,
    "L/100 km",
    "liters per 100 km",
    "l/100km|l/100 km|liters per 100 km|litres per 100 km|l per 100 km|l/100kms|lp100km",
    to_base=_inverse_to,
    from_base=_inverse_to,
)

for _u in list(UNITS.values()):
    if _u.dim == "data rate" and _u.symbol.endswith("/s"):
        _stem = _u.symbol[:-2]
        for _tail in (" per second", " per sec", "ps", "/sec"):
            _alias(EXACT_CASE, _stem + _tail, _u.key)
            if _stem.lower() not in ("mb", "kb", "gb", "tb", "pb", "eb") or "B" in _stem:
                _alias(ALIASES, (_stem + _tail).lower(), _u.key)

CURRENCY = re.compile(
    r"[$€£¥₹₿]|\b(?:usd|eur|gbp|jpy|inr|cad|aud|chf|cny|btc|dollars?|euros?|pounds sterling|yen|rupees?|bitcoins?)\b",
    re.I,
)

# --------------------------------------------------------------------------- parsing

NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "hundred": 100, "a hundred": 100, "a thousand": 1000, "half a": F(1, 2), "half an": F(1, 2), "a half": F(1, 2),
    "a quarter": F(1, 4), "quarter of a": F(1, 4), "a dozen": 12, "dozen": 12,
}  # fmt: skip
VULGAR = {"½": F(1, 2), "¼": F(1, 4), "¾": F(3, 4), "⅓": F(1, 3), "⅔": F(2, 3), "⅛": F(1, 8), "⅜": F(3, 8)}
SCALE_WORDS = {"thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
NUM = re.compile(
    r"(?<![\w.])(?P<sign>[-+])?\s?"
    r"(?:(?P<whole>\d+)\s+(?P<fn>\d+)/(?P<fd>\d+)"  # 1 1/2
    r"|(?P<n>\d+)/(?P<d>\d+)(?![\d/])"  # 3/4
    r"|(?P<dec>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?P<vul>[½¼¾⅓⅔⅛⅜])?"
    r"(?:\s?(?:[eE](?P<exp>[-+]?\d+)|[x\u00d7*]\s?10\^(?P<exp2>[-+]?\d+))(?![\w]))?"
    r"|(?P<vonly>[½¼¾⅓⅔⅛⅜]))"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion)\b)?"
)
WORD_NUM = re.compile(r"\b(" + "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True)) + r")\b", re.I)
_CONNECTORS = [
    "in terms of", "expressed in", "converted to", "converted into", "convert to", "in how many", "to how many",
    "how many", "equal to", "equals", "equal", "into", "to", "in", "as", "is", "are", "vs", "==", "=", "->", "→", "=>",
]  # fmt: skip
CONNECTOR = re.compile(
    r"\s*(?:,\s*)?(?:" + "|".join(re.escape(c) + (r"\b" if c[-1].isalpha() else "") for c in _CONNECTORS) + r")\s*",
    re.I,
)
FILLER = re.compile(
    r"\s*(?:(?:is|are|in|make|makes|equals?|equal to|=|does it take to make|fit in(?:to)?|do you get (?:from|in)"
    r"|there|per|of|for|you get in|would be|will be|will|be)\b\s*)+",
    re.I,
)
SEP = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s(?:and|&|plus|or)\s|\+)\s*", re.I)
INTERVAL = re.compile(
    r"\b(?:difference|change|delta|rise|increase|decrease|drop|interval|warmer|cooler|colder|hotter)\b", re.I
)

_BY_FIRST: dict[str, list[str]] = {}
for _a in sorted({*ALIASES, *EXACT_CASE}, key=len, reverse=True):
    _BY_FIRST.setdefault(_a[:1].lower(), []).append(_a)


def match_unit(text: str, pos: int) -> tuple[list[str], int, str] | None:
    """The longest unit alias starting at pos: (unit keys, end, matched text); exact-case symbols first."""
    rest = text[pos:]
    low = rest.lower()
    size = 0
    first: list[str] = []
    then: list[str] = []
    for alias in _BY_FIRST.get(low[:1], ()):
        n = len(alias)
        if n < size:
            break
        exact = rest.startswith(alias)
        if not (exact or low.startswith(alias.lower())):
            continue
        nxt = rest[n : n + 1]
        if nxt and (nxt.isalnum() or nxt == "_") and alias[-1:].isalnum():
            continue
        if exact and alias in EXACT_CASE:
            first += EXACT_CASE[alias]
        then += ALIASES.get(alias.lower(), [])
        if first or then:
            size = n
    keys = list(dict.fromkeys(first + then))
    return (keys, pos + size, rest[:size]) if keys else None


def parse_number(text: str, pos: int) -> tuple[F, int] | None:
    """A number at pos (digits, 1,234.5, 1.5e3, 3x10^8, 3/4, 1 1/2, ½, words like 'a' or 'half a')."""
    while pos < len(text) and text[pos] == " ":
        pos += 1
    m = NUM.match(text, pos)
    if m and m.group(0).strip() and m.group(0).strip() not in "+-":
        g = m.groupdict()
        if g["whole"] is not None:
            if int(g["fd"]) == 0:
                raise Refusal("A fraction in the request has a zero denominator.")
            v = F(int(g["whole"])) + F(int(g["fn"]), int(g["fd"]))
        elif g["n"] is not None:
            if int(g["d"]) == 0:
                raise Refusal("A fraction in the request has a zero denominator.")
            v = F(int(g["n"]), int(g["d"]))
        elif g["vonly"] is not None:
            v = VULGAR[g["vonly"]]
        else:
            raw = g["dec"].replace(",", "")
            if len(raw) > 300:
                raise Refusal("A number in the request is over 300 digits long; shorten it or use 1e300 notation.")
            v = F(raw if raw not in (".",) else "0")
            if g["vul"]:
                v += VULGAR[g["vul"]]
            exp = g["exp"] or g["exp2"]
            if exp is not None:
                if abs(int(exp)) > 400:
                    raise Refusal("The exponent is too large; keep numbers between 1e-400 and 1e400.")
                v *= F(10) ** int(exp)
        if g["scale"]:
            v *= SCALE_WORDS[g["scale"].lower()]
        if g["sign"] == "-":
            v = -v
        return v, m.end()
    if pos < len(text) and text[pos] in "\u2212-" and pos + 1 < len(text) and text[pos + 1].isdigit():
        got = parse_number(text, pos + 1)
        if got:
            return -got[0], got[1]
    w = WORD_NUM.match(text, pos)
    if w:
        return F(NUMBER_WORDS[w.group(1).lower()]), w.end()
    return None


@dataclass
class Quantity:
    parts: list[tuple[F, list[str], str]] = field(default_factory=list)  # value, unit keys, matched text
    start: int = 0
    end: int = 0


def parse_quantity(text: str, pos: int, allow_bare: bool = False) -> Quantity | None:
    """A number and a unit at pos, followed by more number+unit pairs of a compatible unit (5 ft 10 in)."""
    q = Quantity(start=pos)
    cur = pos
    while True:
        got = parse_number(text, cur)
        if got is None:
            if q.parts or not allow_bare:
                break
            value, after = F(1), cur
        else:
            value, after = got
        while after < len(text) and text[after] in " -":  # "5 km", "5-km", "5km"
            after += 1
        if after < len(text) and text[after:].lower().startswith("of a "):
            after += 5
        u = match_unit(text, after)
        if u is None:
            break
        keys, end, raw = u
        if q.parts:
            dims = {UNITS[k].dim for k in keys} & {UNITS[k].dim for k in q.parts[-1][1]}
            if not dims or got is None:
                break
        q.parts.append((value, keys, raw))
        q.end = end
        if got is None:
            break
        nxt = re.match(r"\s*(?:,|and|&|\+)?\s*(?=[\d.½¼¾])", text[end:])
        if not nxt:
            break
        cur = end + nxt.end()
    return q if q.parts else None


def parse_targets(text: str, pos: int) -> tuple[list[tuple[list[str], str]], int] | None:
    targets: list[tuple[list[str], str]] = []
    cur = pos
    while True:
        m = re.match(r"\s*(?:how many\s+|what\s+|the\s+|\?\s*)*", text[cur:], re.I)
        cur += m.end() if m else 0
        u = match_unit(text, cur)
        if u is None:
            break
        targets.append((u[0], u[2]))
        cur = u[1]
        s = SEP.match(text, cur)
        if not s:
            break
        if match_unit(text, s.end()) is None:
            break
        cur = s.end()
    return (targets, cur) if targets else None


def normalize(text: str) -> str:
    t = text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u2009", " ").replace("\u202f", " ")
    t = t.replace("²", "2").replace("³", "3").replace("·", " ").replace("\u2019", "'").replace("”", '"')
    t = re.sub(r"°\s*([CFKRcfkr])(?![a-zA-Z])", r" \1", t)
    t = re.sub(r"(\d)\s*°(?!\s*[CFKRcfkr]\b)", r"\1 deg", t)
    t = t.replace("°", " ")
    t = re.sub(r"\bper\s+cent\b", "percent", t, flags=re.I)
    t = re.sub(r"(\d)\s*(?:square|sq\.?)\s+(\w+)", r"\1 sq \2", t)
    t = re.sub(r"[`*_]+", " ", t)
    t = re.sub(r"(?<![\d\s])[\"“”]|(?<![\d])\s[\"“”]|[\"“”](?=[A-Za-z])", " ", t)  # quotes, not 10" (inches)
    return re.sub(r"[ \t]+", " ", t).strip()


@dataclass
class Request:
    source: Quantity
    targets: list[tuple[list[str], str]]


def candidates(text: str) -> Iterator[Request]:
    """Readings of the request, most likely first; main() takes the first whose units agree."""
    # "how many X (are) in N Y", "how many km is a half marathon (13.1 miles)"
    for m in re.finditer(r"\bhow\s+(?:many|much)\s+", text, re.I):
        tg = parse_targets(text, m.end())
        if tg is None:
            continue
        targets, end = tg
        f = FILLER.match(text, end)
        start = f.end() if f else end
        src = parse_quantity(text, start, allow_bare=True)
        if src is not None:
            yield Request(src, targets)
        starts = _starts(text, False)
        for pos in [p for p in starts if p >= end] + [p for p in starts if p < m.start()]:
            other = parse_quantity(text, pos)  # "a half marathon (13.1 miles)", "300 Mbps - how many MB/s is that"
            if other is not None:
                yield Request(other, targets)
                break
    # "<quantity> <connector> <units>" - the first quantity with a number, else a bare unit
    refusal: Refusal | None = None
    for bare in (False, True):
        for pos in _starts(text, bare):
            src = parse_quantity(text, pos, allow_bare=bare)
            if src is None:
                continue
            c = CONNECTOR.match(text, src.end) or _connector_after_words(text, src.end)
            if c:
                tg = parse_targets(text, c.end())
                if tg:
                    yield Request(src, tg[0])
                    continue
            if not bare:
                # maybe the target came first: "convert to km: 5 miles"
                head = re.search(r"\b(?:to|into|in)\s+(?=\S)", text[: src.start], re.I)
                if head:
                    tg = parse_targets(text, head.end())
                    if tg:
                        yield Request(src, tg[0])
                        continue
                refusal = refusal or Refusal(
                    f"Name the unit to convert {src_text(src)} to, e.g. '{src_text(src)} in <unit>' "
                    "('5 miles in km', '72 F to C')."
                )
        if refusal is not None:
            raise refusal
    if CURRENCY.search(text):
        raise Refusal("Currency conversion needs live exchange rates, which this offline converter does not have.")
    if not any(ch.isdigit() for ch in text):
        raise Refusal("Give a number with its unit and the unit to convert to, e.g. '5 miles in km' or '72F to C'.")
    word = re.search(r"\d[\d.,]*\s*([A-Za-z][\w/]*)", text)
    if word and not match_unit(text, word.start(1)):
        raise Refusal(
            f"'{word.group(1)}' is not a unit this converter knows; write it as a common name or symbol, "
            "e.g. 'km', 'lb', 'GiB', 'degF'."
        )
    raise Refusal("Give a number with its unit and the unit to convert to, e.g. '5 miles in km' or '72F to C'.")


def _connector_after_words(text: str, pos: int) -> re.Match[str] | None:
    """'2 cups of flour in grams', 'a 10 C rise in F': up to three plain words before the connector."""
    m = re.match(r"(?:\s+(?!(?:to|in|into|as)\b)[A-Za-z][\w'-]*){1,3}", text[pos:], re.I)
    if not m:
        return None
    return CONNECTOR.match(text, pos + m.end())


def _starts(text: str, bare: bool) -> list[int]:
    if not bare:
        return [m.start() for m in re.finditer(r"(?<![\w.])[-+\u2212]?(?:\d|\.\d|[½¼¾⅓⅔⅛⅜])", text)] + [
            m.start() for m in WORD_NUM.finditer(text) if m.group(1).lower() not in ("a", "an")
        ]
    return [m.start() for m in re.finditer(r"(?<![\w/])\S", text)]


def src_text(q: Quantity) -> str:
    return " ".join(f"{label(v)} {raw}" for v, _, raw in q.parts)


def label(v: F) -> str:
    """A number as the user gave it: a decimal when exact, else a fraction (1/3)."""
    txt, exact = fmt(v)
    return txt if exact else f"{v.numerator}/{v.denominator}"


# --------------------------------------------------------------------------- numbers out


def _group(int_part: str) -> str:
    neg = int_part.startswith("-")
    digits = int_part.lstrip("-")
    if len(digits) > 4:
        digits = f"{int(digits):,}"
    return ("-" if neg else "") + digits


def fmt(x: F, sig: int = 10) -> tuple[str, bool]:
    """A number for people: exact decimals up to 15 significant digits, else `sig` digits. Returns (text, exact)."""
    if x == 0:
        return "0", True
    if x.denominator == 1 and abs(x.numerator) < 10**30:
        return _group(str(x.numerator)), True
    den = x.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    ax = abs(x)
    if den == 1:
        places = max(twos, fives)
        scaled = abs(x.numerator) * 10**places // x.denominator
        digits = str(scaled).rstrip("0")
        if len(digits) <= 15 and F(1, 10**6) <= ax < 10**15:
            s = str(scaled).rjust(places + 1, "0")
            ip, fp = s[:-places] or "0", s[-places:].rstrip("0")
            out = _group(ip) + ("." + fp if fp else "")
            return ("-" if x < 0 else "") + out, True
    with localcontext() as ctx:
        ctx.prec = sig
        d = Decimal(x.numerator) / Decimal(x.denominator)
    if F(1, 10**6) <= ax < 10**15:
        txt = format(d, "f")
        if "." in txt:
            txt = txt.rstrip("0").rstrip(".")
        ip, _, fp = txt.partition(".")
        txt = _group(ip) + ("." + fp if fp else "")
    else:
        mant, _, exp = format(d, "e").partition("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        txt = f"{mant}e{int(exp)}"
    exact = F(d) == x
    return txt, exact


# --------------------------------------------------------------------------- converting


def resolve(req: Request) -> tuple[list[Unit], list[Unit], list[str]]:
    notes: list[str] = []
    src_keys = req.source.parts[0][1]
    # dimensions every source part and every target can take
    common = None
    for _, keys, _ in req.source.parts:
        dims = {UNITS[k].dim for k in keys}
        common = dims if common is None else common & dims
    order = [UNITS[k].dim for k in src_keys]
    chosen = None
    for dim in order:
        if common and dim in common and all(any(UNITS[k].dim == dim for k in t[0]) for t in req.targets):
            chosen = dim
            break
    if chosen is None:
        sdim = UNITS[src_keys[0]].dim
        bad = next(
            (t for t in req.targets if not any(UNITS[k].dim in (common or {sdim}) for k in t[0])), req.targets[0]
        )
        tdim = UNITS[bad[0][0]].dim
        hint = ""
        if {sdim, tdim} == {"mass", "volume"}:
            hint = " Converting between volume and mass needs the substance's density (water: 1 mL weighs 1 g)."
        elif {sdim, tdim} == {"data", "data rate"}:
            hint = " A size and a rate differ by a time: give the transfer time or ask for the rate."
        raise Refusal(
            f"Cannot convert {req.source.parts[0][2]} ({sdim}) to {bad[1]} ({tdim}): they measure different things."
            + hint
        )
    srcs = [UNITS[next(k for k in keys if UNITS[k].dim == chosen)] for _, keys, _ in req.source.parts]
    tgts = [UNITS[next(k for k in keys if UNITS[k].dim == chosen)] for keys, _ in req.targets]
    for (_, keys, raw), u in zip(req.source.parts, srcs, strict=True):
        _ambiguity_note(raw, keys, u, notes)
    for (keys, raw), u in zip(req.targets, tgts, strict=True):
        _ambiguity_note(raw, keys, u, notes)
    return srcs, tgts, notes


def _ambiguity_note(raw: str, keys: list[str], u: Unit, notes: list[str]) -> None:
    low = raw.lower()
    msg = ""
    if u.dim in ("data", "data rate") and u.key[:1] in "kMGTPE" and "i" not in u.key and u.key.endswith(("B", "B/s")):
        msg = "kB, MB, GB, TB are powers of 1000 (SI); KiB, MiB, GiB, TiB are powers of 1024"
        if raw[:2] in ("kb", "mb", "gb", "tb", "pb", "eb"):
            msg += "; lower-case 'mb' is read as megabytes (megabits: Mb or Mbit)"
    elif u.key == "mW" and raw != "mW":
        msg = "read as milliwatts"
    elif raw != u.symbol and low in ("mw", "mj") and u.key in ("MW", "MJ"):
        msg = f"read '{raw}' as {u.symbol} ({u.name}); write m{u.symbol[1:]} for milli"
    elif low == "degrees" and u.dim == "temperature":
        msg = f"read 'degrees' as {u.symbol}"
    elif low in ("ton", "tons") and u.key == "ton":
        msg = "a 'ton' is read as the US short ton (907.18474 kg); say 'tonne' for 1000 kg or 'long ton'"
    elif low == "c" and u.dim == "volume":
        msg = "read 'c' as US cups"
    elif low == "t" and u.dim == "mass":
        msg = "read 't' as metric tonnes"
    elif low in ("cal", "calorie", "calories") and u.key == "cal":
        msg = "'cal' is the small calorie (4.184 J); food labels' Calories are kcal"
    if u.note and u.note not in notes and not msg:
        msg = u.note
    if msg and msg not in notes:
        notes.append(msg)


def compose(base: F, units: list[Unit]) -> str | None:
    """'5 ft 6.93 in': whole numbers of the larger units, the rest in the smallest."""
    if len(units) < 2 or any(u.to_base for u in units):
        return None
    ordered = sorted(units, key=lambda u: u.factor, reverse=True)
    if len({u.factor for u in ordered}) != len(ordered):
        return None
    neg = base < 0
    rest = abs(base)
    parts = []
    for u in ordered[:-1]:
        n = math.floor(rest / u.factor)
        rest -= n * u.factor
        parts.append(f"{n} {u.symbol}")
    last = ordered[-1]
    txt, exact = fmt(rest / last.factor, sig=4 if rest / last.factor < 1000 else 10)
    parts.append(f"{txt} {last.symbol}")
    return ("-" if neg else "") + " ".join(parts), exact


def main() -> int:
    try:
        raw = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        raw = ""
    text = normalize(raw)
    if not text:
        raise Refusal("Give a number with its unit and the unit to convert to, e.g. '5 miles in km'.")
    first_error: Refusal | None = None
    chosen = None
    try:
        for cand in candidates(text):
            try:
                chosen = (cand, *resolve(cand))
                break
            except Refusal as exc:
                first_error = first_error or exc
    except Refusal as exc:
        if first_error is None:
            raise
        del exc
    if chosen is None:
        raise first_error or Refusal("Give a number with its unit and the unit to convert to, e.g. '5 miles in km'.")
    req, srcs, tgts, notes = chosen
    dim = srcs[0].dim
    interval = dim == "temperature" and bool(INTERVAL.search(text))
    values = [v for v, _, _ in req.source.parts]
    if interval:
        base = sum((v * u.factor for v, u in zip(values, srcs, strict=True)), F(0))
    else:
        base = sum((u.base(v) for v, u in zip(values, srcs, strict=True)), F(0))
    if dim == "temperature" and not interval and base < 0:
        notes.append(f"{src_text(req.source)} is below absolute zero (0 K); check the value")
    all_exact = all(u.exact for u in srcs + tgts)
    src_label = " ".join(f"{label(v)} {u.symbol}" for v, u in zip(values, srcs, strict=True))
    out = [f"# {src_label} → {', '.join(u.symbol for u in tgts)}", ""]
    combo = compose(base, tgts)
    for t in tgts:
        if combo and t in srcs:
            continue
        val = base / t.factor if interval else t.back(base)
        txt, exact = fmt(val)
        sign = "=" if exact and all_exact else "≈"
        out.append(f"**{src_label} {sign} {txt} {t.symbol}**")
    if combo:
        out.append(f"**{src_label} {'=' if combo[1] and all_exact else '≈'} {combo[0]}**")
    out.append("")
    facts = []
    for s in dict.fromkeys(u.key for u in srcs):
        su = UNITS[s]
        for t in tgts:
            if t.key == su.key:
                continue
            if interval or (not su.to_base and not t.to_base):
                fwd, ex1 = fmt(su.factor / t.factor)
                rev, ex2 = fmt(t.factor / su.factor)
                ok = su.exact and t.exact
                facts.append(
                    f"1 {su.symbol} {'=' if ex1 and ok else '≈'} {fwd} {t.symbol} · "
                    f"1 {t.symbol} {'=' if ex2 and ok else '≈'} {rev} {su.symbol}"
                )
            elif dim == "temperature":
                facts.append(_temp_formula(su, t))
            elif dim == "fuel economy":
                facts.append("L/100 km is the inverse of distance per volume: L/100 km = 100 ÷ (km/L)")
    out += [f"- {f}" for f in dict.fromkeys(facts)]
    if interval:
        out.append("- Read as a temperature difference (no offset): 1 °C = 1 K = 1.8 °F")
    kind = dim + (" (a difference)" if interval else "")
    names = ", ".join(dict.fromkeys(u.name for u in srcs + tgts))
    how = "exact unit definitions; ≈ marks a rounded decimal" if all_exact else "≈: a factor here is a rounded constant"
    out.append(f"- {kind.capitalize()}: {names} ({how})")
    for n in notes:
        out.append(f"- Note: {n}")
    print("\n".join(out))
    return 0


def _temp_formula(s: Unit, t: Unit) -> str:
    forms = {
        ("C", "F"): "°F = °C * 9/5 + 32",
        ("F", "C"): "°C = (°F - 32) * 5/9",
        ("C", "K"): "K = °C + 273.15",
        ("K", "C"): "°C = K - 273.15",
        ("F", "K"): "K = (°F + 459.67) * 5/9",
        ("K", "F"): "°F = K * 9/5 - 459.67",
        ("R", "K"): "K = °R * 5/9",
        ("K", "R"): "°R = K * 9/5",
        ("F", "R"): "°R = °F + 459.67",
        ("R", "F"): "°F = °R - 459.67",
        ("C", "R"): "°R = (°C + 273.15) * 9/5",
        ("R", "C"): "°C = °R * 5/9 - 273.15",
    }
    return "Formula: " + forms.get((s.key, t.key), "via kelvin")


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"convert.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
