"""Which offered option a typed answer means, in any of fr, ar, ary and ary_latn.

The bot offers choices as buttons (services, agencies, time slots, appointments). Most people tap;
some type: "business plan", "fahs", "demain 10h", "lundi", "الأول", "2". The channels map a bare
number back to the option; everything else is resolved here, against the options offered (kept in
a slot), after `ge_text.normalize`, with tolerant word matching. The vocabulary of days, months,
ordinals and "change"/"later" words of the four varieties lives here too, because recognising
"nhar letnin" and writing "letnin 12 janvier" are the same knowledge.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from ge_text import normalize, tokens
from ge_text.gazetteer import stem_variants

# ----------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Option:
    """A choice offered to the user: the slot value it stands for, its button title, other names
    it may be called by (its name in the other varieties, its city...), for a time slot or an
    appointment the local start time (ISO 8601 with offset), and what the bot needs to remember
    about it once chosen (an agency's address, an appointment's details)."""

    value: str
    label: str
    words: tuple[str, ...] = ()
    when: str | None = None
    data: dict[str, Any] | None = field(default=None, compare=False)

    def as_slot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": self.value, "l": self.label}
        if self.words:
            out["w"] = list(self.words)
        if self.when:
            out["t"] = self.when
        if self.data:
            out["d"] = self.data
        return out

    @classmethod
    def from_slot(cls, data: dict[str, Any]) -> Option:
        return cls(value=str(data["v"]), label=str(data.get("l") or data["v"]),
                   words=tuple(data.get("w") or ()), when=data.get("t"), data=data.get("d"))


def options_to_slot(kind: str, options: Sequence[Option]) -> dict[str, Any]:
    """The value of the slot that remembers what was offered (and for which question)."""
    return {"kind": kind, "options": [o.as_slot() for o in options]}


def options_from_slot(value: Any, kind: str | None = None) -> list[Option]:
    """The options remembered in the slot, if they were offered for `kind` (any kind if None)."""
    if not isinstance(value, dict) or (kind is not None and value.get("kind") != kind):
        return []
    return [Option.from_slot(item) for item in value.get("options") or [] if isinstance(item, dict) and "v" in item]


# ------------------------------------------------------------------------------- vocabulary
# Every word below is written as ge_text.normalize leaves it (lower case, no accents, alef, yaa
# and taa marbuta unified), so that comparisons are plain set look-ups.

def _vocabulary(words: str) -> set[str]:
    return set(words.split())


_ORDINALS: dict[str, int] = {}
for _rank, _names in {
    1: "premier premiere 1er 1ere first lwl lowel louwel lwel lewel luwel lawel lowl lwal الاول الاولي اول اللول لول"
       " lwla lowla loula louwla lewla lawla l2ola l2oula l2owla اللولي لولي",
    2: "deuxieme second seconde 2e 2eme 2nd tani tania tanya ttani ttania ttanya ettani ettania التاني التانيه"
       " الثاني الثانيه تاني ثاني",
    3: "troisieme 3e 3eme third talt talet talta ttalt ettalt التالت التالته الثالث الثالثه تالت ثالث",
    4: "quatrieme 4e 4eme fourth rab3 rabe3 rab3a الرابع الرابعه رابع",
    5: "cinquieme 5e 5eme fifth khames khamsa5 الخامس الخامسه خامس",
    6: "sixieme 6e 6eme sixth sades السادس السادسه سادس",
    7: "septieme 7e 7eme seventh sabe3 السابع السابعه سابع",
    8: "huitieme 8e 8eme eighth tamen التامن الثامن ثامن",
    9: "neuvieme 9e 9eme ninth tase3 التاسع تاسع",
    10: "dixieme 10e 10eme tenth 3acher العاشر عاشر",
}.items():
    for _word in _names.split():
        _ORDINALS[_word] = _rank
_LAST = _vocabulary("""
    dernier derniere last lakher lkher lekher lakhar اللخر الاخير الاخيره اخر الاخر
""")
_NUMBER_WORDS = {
    "un": 1, "une": 1, "wa7ed": 1, "wahed": 1, "wa7da": 1, "واحد": 1, "واحده": 1,
    "deux": 2, "jouj": 2, "jooj": 2, "zouj": 2, "جوج": 2, "زوج": 2, "اثنان": 2, "اثنين": 2,
    "trois": 3, "ثلاثه": 3, "تلاته": 3,
    "quatre": 4, "reb3a": 4, "arb3a": 4, "اربعه": 4, "ربعه": 4,
    "cinq": 5, "khamsa": 5, "خمسه": 5,
}
# Words around a number that do not change its meaning: "le 2", "option 2", "raqm 2", "رقم 2".
_NUMBER_FILLERS = _vocabulary("""
    le la l n no num numero option choix choice number raqm ra9m nmra nemra رقم الرقم نمره النمره svp stp
    please 3afak afak عافاك من فضلك ok wakha oui ah celui celle dak dik هذا هادا هادي داك ديك
""")

# Monday is 0, as in date.weekday().
_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate((
    "lundi lun monday mon tnin letnin lethnin ltnin etnin tnine lithnin lithnayn"
    " الاثنين الاتنين اثنين تنين التنين لاتنين الثنين",
    "mardi mar tuesday tue tlat tlata ttlat ltlat ettlat tleta talat الثلاثاء الثلاثا التلات التلاتا تلات ثلاثاء",
    "mercredi mer wednesday wed larb3 larba3 arb3 lerb3 larbe3 l2rb3 الاربعاء الاربعا لاربع الاربع",
    "jeudi jeu thursday thu khmis lkhmis l5mis lkhamis khamis الخميس لخميس خميس",
    "vendredi ven friday fri jem3a jm3a ljem3a ljm3a jouma3a jmaa الجمعه جمعه لجمعه",
    "samedi sam saturday sat sebt ssebt essebt sabt السبت سبت",
    "dimanche dim sunday sun l7ed 7ed el7ed l7add الاحد الحد لحد احد",
)):
    for _word in _names.split():
        _WEEKDAYS[_word] = _index
# Abbreviations are only days when nothing else is around them ("mar" alone, not "mar 10h"?):
# keep them out of free text where they are ordinary words.
_WEEKDAY_ABBREVIATIONS = _vocabulary("""
    lun mar mer jeu ven sam dim mon tue wed thu fri sat sun
""")

_TODAY = _vocabulary("""
    aujourd auj ajd today lyoum lyom lyouma lyoma youm اليوم ليوم ليوما اليوما
""")
_TOMORROW = _vocabulary("""
    demain dmain tomorrow ghda ghdda ghedda ghedwa ghdwa ghadda ghadwa غدا غدوه غدوا الغد غد
""")
_AFTER = {"apres", "ba3d", "baad", "بعد"}

_MONTHS: dict[str, int] = {}
for _index, _names in enumerate((
    "janvier janv jan january yanayir يناير جانفي",
    "fevrier fev feb february fbrayer فبراير فيفري",
    "mars mar march مارس",
    "avril avr apr april abril ابريل افريل",
    "mai may ماي مايو",
    "juin jun june younyou يونيو جوان",
    "juillet juil jul july youlyouz يوليوز يوليو جويليه",
    "aout aug august ghocht غشت اغسطس اوت",
    "septembre sept sep september chtanber شتنبر سبتمبر",
    "octobre oct october oktober اكتوبر",
    "novembre nov november nonbir نونبر نوفمبر",
    "decembre dec december dojanbir دجنبر ديسمبر",
), start=1):
    for _word in _names.split():
        _MONTHS.setdefault(_word, _index)

_MORNING = _vocabulary("""
    matin matinee morning sbah sba7 fsbah fsba7 sbe7 الصباح صباح صباحا فالصباح الصبح
""")
_AFTERNOON = _vocabulary("""
    aprem apres-midi aprm afternoon soir l3chiya l3echiya 3chiya l3ochiya 3echiya zwal lmsa العشيه عشيه
    فالعشيه الزوال زوال المساء مساء مساءا العشيا
""")

_LATER_CORE = _vocabulary("""
    later tard autres suivants suivantes prochains prochaines moraha okhrin okhra khrin akhrin اخرين اخري
    اخرى لاحقه لاحقا التاليه القادمه المقبله جايين jayin مورا موراها autre
""")

_CHANGE_WORDS = {"changer", "change", "changez", "changes", "modifier", "modifie", "modifiez", "corriger", "corrige",
                 "plutot", "autre", "bdel", "bddel", "beddel", "nbdel", "nbeddel", "nbddel", "badel", "bedel", "tbdel",
                 "tbeddel", "bdl", "bedl", "ghayer", "nghayer", "بدل", "بدلي", "نبدل", "تبدل", "بدلو", "غير", "نغير",
                 "تغيير", "عدل", "تعديل", "اخر", "اخري", "اخرى", "بلاصت", "بدال", "blast", "instead", "other"}
_NEGATIONS = {"non", "no", "nn", "la", "lla", "laa", "لا", "لالا", "nope", "pas"}

_FIELD_WORDS: dict[str, set[str]] = {
    "service": {"service", "prestation", "khedma", "lkhedma", "khidma", "lkhidma", "خدمه", "الخدمه", "لخدمه"},
    "city": {"ville", "lville", "mdina", "lmdina", "مدينه", "المدينه", "لمدينه", "lieu", "endroit", "blasa",
             "lblasa", "البلاصه", "بلاصه", "المكان", "مكان", "city", "place"},
    "agency_id": {"agence", "lagence", "agences", "lagance", "wkala", "lwkala", "وكاله", "الوكاله", "لوكاله", "لاجونس",
                  "agency"},
    "appointment_slot": {"heure", "horaire", "date", "jour", "creneau", "moment", "wa9t", "lwa9t", "we9t", "lwe9t",
                         "wqt", "lwqt", "sa3a", "ssa3a", "nhar", "nhare", "الوقت", "وقت", "لوقت", "الساعه", "ساعه",
                         "النهار", "نهار", "التاريخ", "تاريخ", "time", "day"},
    "full_name": {"nom", "prenom", "smiya", "smia", "ssmiya", "lsmiya", "smiti", "الاسم", "اسم", "السميه", "سميه",
                  "سميتي", "اسمي", "name"},
    "phone": {"numero", "num", "telephone", "tel", "portable", "gsm", "nmra", "nemra", "nimero", "raqm", "ra9m",
              "الرقم", "رقم", "النمره", "نمره", "التيليفون", "تيليفون", "الهاتف", "هاتف", "phone"},
}
# "The appointment" names the time only when a change is asked in so many words ("بدل الموعد");
# "non, pas de rdv" is not a request to move it.
_WEAK_FIELD_WORDS: dict[str, set[str]] = {
    "appointment_slot": {"الموعد", "موعد", "maw3id", "lmaw3id", "rdv", "rendez", "الرونديفو", "رونديفو"},
}
FIELDS = tuple(_FIELD_WORDS)

# Words that say nothing about which option is meant; dropped before comparing names.
_STOPWORDS = {
    "le", "la", "les", "l", "de", "du", "des", "d", "un", "une", "a", "au", "aux", "et", "en", "pour", "par", "avec",
    "sur", "mon", "ma", "mes", "je", "j", "veux", "voudrais", "souhaite", "svp", "stp", "merci", "agence", "anapec",
    "centre", "rendez", "vous", "rdv", "service", "plutot", "celui", "celle", "choix", "option", "the", "of", "and",
    "dyal", "dyali", "f", "fi", "bghit", "bgha", "3afak", "afak", "lia", "liya", "men", "m3a", "w", "wa", "had", "hadi",
    "hadak", "chi", "lagence", "wkala", "lwkala", "maw3id", "lmaw3id", "direction", "s'il", "plait", "oui", "ok",
    "في", "من", "الي", "على", "علي", "عن", "و", "مع", "اريد", "بغيت", "عافاك", "ديال", "ديالي", "هاد", "هادي", "هادا",
    "وكاله", "الوكاله", "انابيك", "لانابيك", "موعد", "الموعد", "ف", "ب", "ل", "فضلك", "شي", "اللي", "لي", "ا",
}

# --------------------------------------------------------------------------------- helpers

_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _words(text: str) -> list[str]:
    return tokens(normalize(text or "").translate(_ARABIC_DIGITS))


def _variants(word: str) -> set[str]:
    """The word and its forms without a glued preposition or article (فطنجه → طنجه, lfahs → fahs)."""
    return set(stem_variants(word)) | {word}


def _same_word(a: str, b: str) -> bool:
    """Equal, or one typo apart for longer words (same first letter, close spelling)."""
    if a == b:
        return True
    if len(a) < 4 or len(b) < 4 or a[0] != b[0]:
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.8


def _content(words: Iterable[str]) -> list[str]:
    return [w for w in words if w not in _STOPWORDS and len(w) > 1 and not w.isdigit()]


def name_score(text: str, name: str) -> float:
    """How well a typed text names `name`, from 0 to 1 (an F1 of the words they share)."""
    typed = _content(_words(text))
    wanted = _content(_words(name))
    if not typed or not wanted:
        return 0.0
    typed_forms = [_variants(t) for t in typed]
    wanted_forms = [_variants(w) for w in wanted]

    def meet(a: set[str], b: set[str]) -> bool:
        return any(_same_word(x, y) for x in a for y in b)

    matched_wanted = sum(1 for w in wanted_forms if any(meet(t, w) for t in typed_forms))
    matched_typed = sum(1 for t in typed_forms if any(meet(t, w) for w in wanted_forms))
    if not matched_wanted:
        whole = SequenceMatcher(None, " ".join(typed), " ".join(wanted)).ratio()
        return whole if whole >= 0.85 else 0.0
    precision, recall = matched_wanted / len(wanted), matched_typed / len(typed)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------------- numbers


def pick_number(text: str, count: int) -> int | None:
    """The 1-based position a short reply picks among `count` options ("2", "le 2", "الثاني",
    "lwl", "dernier"), or None."""
    words = _words(text)
    if not words or len(words) > 4 or count <= 0:
        return None
    rest = [w for w in words if w not in _NUMBER_FILLERS]
    if len(rest) != 1:
        return None
    word = rest[0].rstrip(".)")
    if word.isdigit():
        number = int(word)
    elif word in _ORDINALS:
        number = _ORDINALS[word]
    elif word in _LAST:
        number = count
    elif word in _NUMBER_WORDS:
        number = _NUMBER_WORDS[word]
    else:
        return None
    return number if 1 <= number <= count else None


# ------------------------------------------------------------------------------ dates, times


@dataclass(frozen=True)
class When:
    """What a message says about a day and a time; every part is optional."""

    day: date | None = None
    weekday: int | None = None
    hour: int | None = None
    minute: int | None = None
    part: str | None = None  # "am" or "pm"

    @property
    def empty(self) -> bool:
        return self.day is None and self.weekday is None and self.hour is None and self.part is None

    @property
    def has_day(self) -> bool:
        return self.day is not None or self.weekday is not None

    def first_day(self, today: date) -> date | None:
        """The day meant, for a weekday the next one from today (today included)."""
        if self.day is not None:
            return self.day
        if self.weekday is not None:
            return today + timedelta(days=(self.weekday - today.weekday()) % 7)
        return None

    def accepts(self, moment: datetime) -> bool:
        if self.day is not None and moment.date() != self.day:
            return False
        if self.weekday is not None and moment.weekday() != self.weekday:
            return False
        if self.hour is not None and (moment.hour, moment.minute) != (self.hour, self.minute or 0):
            return False
        if self.part == "am" and moment.hour >= 12:
            return False
        return not (self.part == "pm" and moment.hour < 12)


_CLOCK = re.compile(r"(?<![\d/])(\d{1,2})\s*(?:h|:|heures?|hrs?|س)\s*(\d{2})?(?![\d/])")
# Words that introduce a time ("à 10", "m3a 2", "على الساعة 11"; normalised text).
_TIME_WORDS = r"(?:a|vers|m3a|mea|ma3a|f|fi|مع|الساعه|ساعه|على|علي|ع|حتي|at)"
_TIME_AFTER_WORD = re.compile(
    rf"(?:^|\s){_TIME_WORDS}\s+(\d{{1,2}})(?:\s*(?:[:.h])\s*(\d{{2}}))?(?![\d/:])")
# Hours said in words ("على الساعة التاسعة", "مع الحداش", "m3a tes3ud", "à dix heures"), made
# digits for the patterns above (normalised text): Arabic-script and Darija ones after a word that
# introduces a time, French ones before "heure(s)" ("à deux" alone may be two people).
_HOUR_WORDS = {w: n for n, words in enumerate((
    (), ("الواحده", "الوحده", "wahda"), ("الثانيه", "الجوج", "jouj", "joj"), ("الثالثه", "التلاته", "tlata"),
    ("الرابعه", "الربعه", "rb3a", "reb3a"), ("الخامسه", "الخمسه", "khamsa"), ("السادسه", "السته", "setta"),
    ("السابعه", "السبعه", "sb3a", "seb3a"), ("الثامنه", "الثمانيه", "التمنيه", "tmnya", "tmenya", "tmanya"),
    ("التاسعه", "التسعه", "التسعود", "t3sa", "tes3a", "tes3ud", "tse3ud"),
    ("العاشره", "العشره", "l3achra", "3achra", "l3ichra"), ("الحاديه عشره", "الحاديه عشر", "الحداش", "l7dach", "7dach"),
    ("الثانيه عشره", "الثانيه عشر", "الطناش", "tnach", "tnache", "midi"),
)) for w in words}
_FRENCH_HOURS = {w: n for n, w in enumerate(("", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit",
                                             "neuf", "dix", "onze", "douze", "", "quatorze", "quinze", "seize"))
                 if w}
_HOUR_WORD = re.compile(
    rf"(?:(?<=^)|(?<=\s))(?:(?P<after>(?:{_TIME_WORDS}\s+)+)"
    r"(?P<word>(?:الحاديه|الثانيه)\s+عشره?|\S+)|(?P<french>\S+)(?=\s+heures?(?!\S)))")
_HEURES = re.compile(r"\s+heures?(?!\S)")


def _hours_in_words(norm: str) -> str:
    """`norm` with the hours said in words made digits."""
    def digit(match: re.Match[str]) -> str:
        if match.group("french") is not None:
            value = _FRENCH_HOURS.get(match.group("french"))
            return str(value) if value is not None else match.group(0)
        word = " ".join(match.group("word").split())
        value = _HOUR_WORDS.get(word)
        if value is None and _HEURES.match(match.string, match.end()):
            value = _FRENCH_HOURS.get(word)  # "à deux heures"
        return f"{match.group('after')}{value}" if value is not None else match.group(0)
    return _HOUR_WORD.sub(digit, norm)


_HOUR_AND_FRACTION = re.compile(r"(?<![\d/])(\d{1,2})()\s+(?:w|و|et)\s*(?:nss|ns|nos|demie|quart|rb3|نص|ربع)(?!\w)")
_DAY_MONTH = re.compile(r"(?<!\d)(\d{1,2})\s*[/-]\s*(\d{1,2})(?:\s*[/-]\s*(\d{2,4}))?(?!\d)")
_DAY_NUMBER = re.compile(r"(?:^|\s)(?:le|nhar|يوم|نهار)\s+(\d{1,2})(?!\s*[h:\d])")


def _hour(raw: int) -> int:
    # Agencies receive from about 8:00 to 17:00: "m3a 2" means 14:00, never 2 in the night.
    return raw + 12 if 1 <= raw <= 7 else raw


def parse_when(text: str, today: date) -> When:
    """Day and time named in a message: "demain 10h", "lundi", "nhar tlat f sbah", "الخميس مع 11",
    "le 15 à 9h30", "15/01". Unknown parts stay None."""
    norm = normalize(text or "").translate(_ARABIC_DIGITS)
    words = tokens(norm)
    stems = [{w, *_variants(w)} for w in words]
    day: date | None = None
    weekday: int | None = None
    hour = minute = None
    part = None

    for i, forms in enumerate(stems):
        if forms & _TOMORROW:
            after = i > 0 and stems[i - 1] & _AFTER
            day = today + timedelta(days=2 if after else 1)
        elif forms & _TODAY and not _names_a_day(words, stems, i + 1):
            # "اليوم" is today, but "يوم الاثنين" / "يوم 15" is on that day.
            day = today
        elif "apres-demain" in forms:
            day = today + timedelta(days=2)
        if weekday is None and day is None:
            found = forms & set(_WEEKDAYS)
            found -= _WEEKDAY_ABBREVIATIONS if len(words) > 2 else set()
            if found:
                weekday = _WEEKDAYS[sorted(found)[0]]
        if forms & _MORNING:
            part = "am"
        elif forms & _AFTERNOON or (words[i] == "midi" and i > 0 and words[i - 1] == "apres"):
            part = "pm"

    match = _DAY_MONTH.search(norm)
    if match and day is None:
        day = _calendar_day(today, int(match.group(1)), int(match.group(2)))
    elif day is None:
        for i, word in enumerate(words):
            if word.isdigit() and i + 1 < len(words) and words[i + 1] in _MONTHS:
                day = _calendar_day(today, int(word), _MONTHS[words[i + 1]])
                break
        else:
            number = _DAY_NUMBER.search(norm)
            if number:
                day = _calendar_day(today, int(number.group(1)), None)

    undated = _hours_in_words(_DAY_MONTH.sub(" ", norm))
    clock = _CLOCK.search(undated) or _TIME_AFTER_WORD.search(undated) or _HOUR_AND_FRACTION.search(undated)
    if clock:
        raw = int(clock.group(1))
        minute = int(clock.group(2)) if clock.group(2) else _fraction(undated[clock.end(1):])
        if 0 <= raw <= 23 and minute <= 59:
            if part == "pm" and raw < 12:
                hour = raw + 12
            elif part == "am":
                hour = raw
            else:
                hour = _hour(raw)
        else:
            minute = None
    if day is not None:
        weekday = None
    return When(day=day, weekday=weekday, hour=hour, minute=minute, part=part)


# A day right after these words is the appointment's own ("mon rdv de jeudi", "lmaw3id dyal l5mis",
# "موعد الخميس"), not the one it should move to; fillers between are skipped (normalised).
_OWN_DAY_CUES = {"de", "du", "d", "dyal", "dial", "ديال", "من", "mn", "men", "rdv", "maw3id", "lmaw3id", "mw3d",
                 "موعد", "الموعد", "موعدي", "rendez-vous", "dyali", "dyalek"}
_DAY_FILLERS = {"le", "la", "nhar", "يوم", "نهار", "lyoum"}


def target_day(text: str, today: date) -> date | None:
    """The day a request to move an appointment asks for: the last one it names, unless that is
    the appointment's own. "je peux pas jeudi, plutôt vendredi" and "du jeudi au vendredi" are
    Friday; "décaler mon rdv de jeudi" names none."""
    words = tokens(normalize(text or ""))
    # "mon", "mar" in a request are no weekdays (parse_when reads them so in a two-word answer).
    start = next((i for i in range(len(words) - 1, -1, -1)
                  if words[i] not in _WEEKDAY_ABBREVIATIONS
                  and parse_when(" ".join(words[i:]), today).has_day
                  and not parse_when(" ".join(words[i + 1:]), today).has_day), None)
    if start is None:
        return None
    before = start - 1
    while before >= 0 and words[before] in _DAY_FILLERS:
        before -= 1
    if before >= 0 and words[before] in _OWN_DAY_CUES:
        return None
    return parse_when(" ".join(words[start:]), today).first_day(today)


_HALF = {"نص", "ونص", "نصف", "النصف", "والنصف", "nss", "ns", "nos", "wnss", "demie", "demi", "half"}
_QUARTER = {"ربع", "وربع", "الربع", "والربع", "rb3", "rbe3", "wrb3", "quart", "quarter"}


def _names_a_day(words: list[str], stems: list[set[str]], i: int) -> bool:
    """Whether the i-th word is a weekday or a day number."""
    return i < len(words) and bool(stems[i] & _WEEKDAYS.keys() or words[i].isdigit())


def _fraction(rest: str) -> int:
    """Minutes said in words right after the hour: "9 و نص", "10 w nss", "9h et demie", "10 et quart"."""
    words = tokens(rest)[:3]
    if any(w in _HALF for w in words):
        return 30
    if any(w in _QUARTER for w in words):
        return 15
    return 0


def _calendar_day(today: date, day: int, month: int | None) -> date | None:
    """The next date with that day (and month): "le 3" in late January is February 3."""
    for offset in range(0, 13):
        year = today.year + (today.month - 1 + offset) // 12
        m = (today.month - 1 + offset) % 12 + 1
        if month is not None and m != month:
            continue
        try:
            candidate = date(year, m, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def wants_later(text: str) -> bool:
    """Does a short reply ask for other, later dates ("autres dates", "moraha", "أوقات أخرى")?"""
    words = _words(text)
    if not words or len(words) > 6:
        return False
    forms = set().union(*({w, *_variants(w)} for w in words))
    if forms & _LATER_CORE:
        return True
    return ("plus" in forms and "tard" in forms) or ("semaine" in forms and "prochaine" in forms) or (
        bool(forms & {"من", "mn", "min"}) and bool(forms & {"بعد", "b3d", "ba3d"}))


def change_request(text: str, *, denied: bool = False) -> str | None:
    """Which answer the user wants to change ("non, bdel lmdina" → "city", "بدل الوقت" →
    "appointment_slot", "changer l'agence" → "agency_id"), or None."""
    words = _words(text)
    if not words or len(words) > 10:
        return None
    forms = [{w, *_variants(w)} for w in words]
    verb = any(f & _CHANGE_WORDS for f in forms)
    if not (verb or denied or words[0] in _NEGATIONS):
        return None
    for form in forms:
        for field_name, vocabulary in _FIELD_WORDS.items():
            if form & vocabulary:
                return field_name
    if verb:
        for form in forms:
            for field_name, vocabulary in _WEAK_FIELD_WORDS.items():
                if form & vocabulary:
                    return field_name
    return None


# "There": the agency just shown ("bghit rdv tma", "un rdv là-bas", "فهاد الوكالة").
_THERE_WORDS = {"tma", "temma", "tmma", "tmak", "tmmak", "la-bas", "hnak", "hnaka", "تما", "تماك", "هناك", "لهيه"}
_THIS_WORDS = {"had", "hed", "cette", "meme", "nafs", "هاد", "فهاد", "هذه", "نفس", "dik", "ديك", "فديك"}
# ("l'agence" is read as "l", "agence".)
_AGENCY_WORDS = {"agence", "lagence", "wakala", "lwakala", "الوكاله", "وكاله"}


def means_agency_shown(text: str) -> bool:
    """Does a request point at the agency just shown ("tma", "là-bas", "cette agence", "هاد الوكالة")?"""
    words = _words(text)
    if any(w in _THERE_WORDS for w in words) or ("la", "bas") in itertools.pairwise(words):
        return True
    return any(a in _THIS_WORDS and any(b in _AGENCY_WORDS for b in words[i + 1:i + 3])
               for i, a in enumerate(words))


def wants_change(text: str) -> bool:
    """Does a short reply ask to change something, without saying what ("modifier", "nbdel")?"""
    words = _words(text)
    return 0 < len(words) <= 4 and any({w, *_variants(w)} & _CHANGE_WORDS for w in words)


# ------------------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class Resolution:
    """What a typed answer picks: one option, or several candidates it could mean, and the day
    and time it names (for time slots)."""

    option: Option | None = None
    candidates: tuple[Option, ...] = ()
    when: When = field(default_factory=When)


def _moment(option: Option) -> datetime | None:
    try:
        return datetime.fromisoformat(option.when) if option.when else None
    except ValueError:
        return None


def resolve(text: str, options: Sequence[Option], *, today: date | None = None) -> Resolution:
    """The option a typed reply means among those offered.

    In order: the option's number or ordinal ("2", "الثاني"); for time slots, the day and time
    named ("demain 10h", "lundi"); the option's value typed as is (a reference "K7M2QX"); then
    its names, compared word by word with typos and glued prepositions forgiven.
    """
    if not options or not (text or "").strip():
        return Resolution()
    number = pick_number(text, len(options))
    if number is not None:
        return Resolution(option=options[number - 1])

    when = When()
    timed = [(o, m) for o in options if (m := _moment(o)) is not None]
    if timed:
        reference_day = today or min(m for _, m in timed).date()
        when = parse_when(text, reference_day)
        if not when.empty:
            fitting = tuple(o for o, m in timed if when.accepts(m))
            if len(fitting) == 1:
                return Resolution(option=fitting[0], when=when)
            return Resolution(candidates=fitting, when=when)

    key = "".join(normalize(text).split()).upper()
    exact = [o for o in options if "".join(normalize(o.value).split()).upper() == key]
    if len(exact) == 1:
        return Resolution(option=exact[0], when=when)

    scored = sorted(
        ((max(name_score(text, name) for name in (o.label, *o.words)), i, o) for i, o in enumerate(options)),
        key=lambda item: (-item[0], item[1]),
    )
    best_score = scored[0][0]
    if best_score < 0.5:
        return Resolution(when=when)
    close = tuple(o for score, _, o in scored if score >= 0.5 and best_score - score < 0.15)
    if len(close) == 1:
        return Resolution(option=close[0], when=when)
    return Resolution(candidates=close, when=when)


# ------------------------------------------------------------------------------- formatting
_DAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "ar": ("الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
    "ary": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الحد"),
    "ary_latn": ("letnin", "tlat", "larb3", "lkhmis", "jem3a", "sebt", "l7ed"),
}
_SHORT_DAY_NAMES = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "ary_latn": ("letnin", "tlat", "larb3", "lkhmis", "jem3a", "sebt", "l7ed"),
}
# Morocco writes the months by their French-derived names, in Arabic script as in Latin script.
_MONTH_NAMES = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "ar": ("يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر"),
}
_MONTH_NAMES["ary"] = _MONTH_NAMES["ar"]
_MONTH_NAMES["ary_latn"] = _MONTH_NAMES["fr"]


def _language(lang: str) -> str:
    return lang if lang in _DAY_NAMES else "fr"


def format_day(moment: datetime | date, lang: str) -> str:
    """"lundi 12 janvier", "الإثنين 12 يناير", "letnin 12 janvier"."""
    lang = _language(lang)
    return f"{_DAY_NAMES[lang][moment.weekday()]} {moment.day} {_MONTH_NAMES[lang][moment.month - 1]}"


def format_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def short_label(moment: datetime, lang: str) -> str:
    """A button title of at most 24 characters: "lun. 12/01 · 09:00"."""
    lang = _language(lang)
    names = _SHORT_DAY_NAMES.get(lang, _DAY_NAMES[lang])
    return f"{names[moment.weekday()]} {moment.day:02d}/{moment.month:02d} · {moment:%H:%M}"
