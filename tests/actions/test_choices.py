"""actions/choices.py: typed answers resolved against the options offered, in fr, ar, ary, ary_latn."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from actions.choices import (
    Option,
    change_request,
    format_day,
    name_score,
    options_from_slot,
    options_to_slot,
    parse_when,
    pick_number,
    resolve,
    short_label,
    target_day,
    wants_change,
    wants_later,
)

CASA = ZoneInfo("Africa/Casablanca")
FRIDAY = date(2027, 1, 8)

SERVICES = [
    Option("information_orientation", "Information et orientation", ("الإعلام والتوجيه", "Lma3lomat w tawjih")),
    Option("entrepreneurship_training", "Formation à l'entrepreneuriat",
           ("التكوين في المقاولة", "Takwin f lmoukawala")),
    Option("business_plan", "Aide au plan d'affaires (business plan)",
           ("المساعدة في إعداد مخطط الأعمال", "المساعدة فالبيزنس بلان", "Lmousa3ada f business plan")),
    Option("financing_orientation", "Orientation vers le financement", ("التوجيه نحو التمويل", "Tawjih l tamwil")),
]
AGENCIES = [
    Option("tanger", "Agence Tanger", ("وكالة أنابيك طنجة", "Tanger")),
    Option("tanger-centre-agr", "Centre des AGR - Tanger", ("مركز الأنشطة المدرة للدخل - طنجة", "Tanger")),
    Option("tanger-fahs", "Agence Tanger - Fahs", ("وكالة أنابيك طنجة - الفحص", "Tanger")),
    Option("mdiq", "Agence M'diq", ("وكالة أنابيك المضيق", "M'diq")),
]


def slot(day: int, hour: int, minute: int = 0) -> Option:
    moment = datetime(2027, 1, day, hour, minute, tzinfo=CASA)
    return Option(moment.isoformat(), short_label(moment, "fr"), when=moment.isoformat())


# Monday 11 and Tuesday 12 January 2027.
SLOTS = [slot(11, 9), slot(11, 9, 30), slot(11, 10), slot(12, 9), slot(12, 10), slot(12, 14, 30)]


@pytest.mark.parametrize(("text", "number"), [
    ("2", 2), ("le 2", 2), ("option 3", 3), ("٢", 2), ("raqm 1", 1), ("رقم 4", 4),
    ("le premier", 1), ("la deuxième", 2), ("الأول", 1), ("الثاني", 2), ("اللول", 1), ("التالت", 3),
    ("lwl", 1), ("tani", 2), ("dernier", 4), ("الأخير", 4),
    # feminine, as said of an option, a time or an agency ("lwla", "l2ola", "اللولى")
    ("lwla", 1), ("l2ola", 1), ("lowla", 1), ("اللولى", 1), ("الأولى", 1), ("ttanya", 2), ("talta", 3),
])
def test_a_number_or_an_ordinal_picks_that_option(text: str, number: int) -> None:
    assert pick_number(text, 4) == number
    assert resolve(text, AGENCIES).option == AGENCIES[number - 1]


@pytest.mark.parametrize("text", ["7", "0", "le 12", "je veux le 2 et le 3 svp merci beaucoup", "deux heures"])
def test_a_number_outside_the_list_or_in_a_sentence_picks_nothing(text: str) -> None:
    assert pick_number(text, 4) is None


@pytest.mark.parametrize(("text", "service"), [
    ("business plan", "business_plan"),
    ("busines plan", "business_plan"),
    ("البيزنس بلان", "business_plan"),
    ("مخطط الأعمال", "business_plan"),
    ("formation", "entrepreneurship_training"),
    ("takwin", "entrepreneurship_training"),
    ("financement", "financing_orientation"),
    ("التمويل", "financing_orientation"),
    ("information", "information_orientation"),
])
def test_a_service_is_found_by_its_name_in_any_variety(text: str, service: str) -> None:
    picked = resolve(text, SERVICES).option
    assert picked is not None and picked.value == service


def test_information_is_not_mistaken_for_formation() -> None:
    # One letter apart at the start: a typo keeps the first letter, another word does not.
    assert name_score("formation", "Information et orientation") == 0.0


@pytest.mark.parametrize(("text", "agency"), [
    ("fahs", "tanger-fahs"), ("الفحص", "tanger-fahs"), ("tanger", "tanger"), ("mdiq", "mdiq"), ("المضيق", "mdiq"),
    ("centre agr", "tanger-centre-agr"),
])
def test_an_agency_is_found_by_its_name(text: str, agency: str) -> None:
    picked = resolve(text, AGENCIES).option
    assert picked is not None and picked.value == agency


def test_words_that_name_no_option_pick_nothing() -> None:
    assert resolve("je ne sais pas", AGENCIES).option is None
    assert resolve("", AGENCIES).option is None
    assert resolve("fahs", []).option is None


def test_an_ambiguous_answer_gives_its_candidates() -> None:
    options = [Option("a", "Agence Fès Saiss"), Option("b", "Agence Fès Médina")]
    result = resolve("fes", options)
    assert result.option is None and {o.value for o in result.candidates} == {"a", "b"}


@pytest.mark.parametrize(("text", "expected"), [
    ("lundi 9h30", SLOTS[1]),
    ("lundi à 10h", SLOTS[2]),
    ("mardi 14h30", SLOTS[5]),
    ("nhar tlat m3a 10", SLOTS[4]),
    ("الثلاثاء مع 2 و نص", SLOTS[5]),
    ("mardi 9h et demie", None),
    ("letnin 9 w nss", SLOTS[1]),
    ("الاثنين على الساعة 9", SLOTS[0]),
    ("letnin 9:30", SLOTS[1]),
    ("12/01 14h30", SLOTS[5]),
    ("le 12 à 9h", SLOTS[3]),
    ("mardi aprem", SLOTS[5]),
    ("lun. 11/01 · 09:30", SLOTS[1]),
])
def test_a_time_slot_is_found_by_day_and_time(text: str, expected: Option | None) -> None:
    result = resolve(text, SLOTS, today=FRIDAY)
    if expected is None:
        assert result.option is None
    else:
        assert result.option == expected


def test_a_day_alone_gives_that_days_slots_as_candidates() -> None:
    result = resolve("lundi", SLOTS, today=FRIDAY)
    assert result.option is None
    assert [o.value for o in result.candidates] == [o.value for o in SLOTS[:3]]
    assert result.when.first_day(FRIDAY) == date(2027, 1, 11)


@pytest.mark.parametrize(("text", "day", "hour", "minute", "part"), [
    ("demain 10h", date(2027, 1, 9), 10, 0, None),
    ("ghedda m3a 2", date(2027, 1, 9), 14, 0, None),
    ("غدا على الساعة 11", date(2027, 1, 9), 11, 0, None),
    ("بعد غدا", date(2027, 1, 10), None, None, None),
    ("aujourd'hui 15h", FRIDAY, 15, 0, None),
    ("le 15 à 9h30", date(2027, 1, 15), 9, 30, None),
    ("15/01", date(2027, 1, 15), None, None, None),
    ("3 février 10h", date(2027, 2, 3), 10, 0, None),
    ("le 3", date(2027, 2, 3), None, None, None),
    ("f sbah", None, None, None, "am"),
    ("l3chiya m3a 3", None, 15, 0, "pm"),
])
def test_days_and_times_in_the_four_varieties(text: str, day: date | None, hour: int | None, minute: int | None,
                                              part: str | None) -> None:
    when = parse_when(text, FRIDAY)
    assert (when.day, when.hour, when.minute, when.part) == (day, hour, minute, part)


@pytest.mark.parametrize(("text", "weekday", "day", "hour", "minute"), [
    ("الثلاثاء على الساعة التاسعة", 1, None, 9, 0),
    ("يوم الاثنين على الساعة العاشرة والنصف", 0, None, 10, 30),
    ("غدا على الساعة الحادية عشرة", None, date(2027, 1, 9), 11, 0),
    ("على الساعة الثانية عشرة", None, None, 12, 0),
    ("الخميس مع التسعود", 3, None, 9, 0),
    ("nhar tlat m3a tes3ud w nss", 1, None, 9, 30),
    ("ghedda m3a l7dach", None, date(2027, 1, 9), 11, 0),
    ("lundi à deux heures", 0, None, 14, 0),
    ("demain vers neuf heures et demie", None, date(2027, 1, 9), 9, 30),
    ("à midi", None, None, 12, 0),
    # not times: "à deux" alone may be two people; "يوم 15" is a day, "اليوم" today.
    ("je suis à deux pas", None, None, None, None),
    ("يوم 15", None, date(2027, 1, 15), None, None),
    ("اليوم", None, FRIDAY, None, None),
])
def test_hours_said_in_words(text: str, weekday: int | None, day: date | None, hour: int | None,
                             minute: int | None) -> None:
    when = parse_when(text, FRIDAY)
    assert (when.weekday, when.day, when.hour, when.minute) == (weekday, day, hour, minute)


@pytest.mark.parametrize(("text", "weekday"), [
    ("lundi", 0), ("nhar tlat", 1), ("larb3", 2), ("الخميس", 3), ("الجمعة", 4), ("sebt", 5), ("الحد", 6), ("l7ed", 6),
])
def test_weekdays_in_the_four_varieties(text: str, weekday: int) -> None:
    when = parse_when(text, FRIDAY)
    assert when.weekday == weekday
    assert when.first_day(FRIDAY).weekday() == weekday


@pytest.mark.parametrize(("text", "field"), [
    ("la, bdel lmdina", "city"),
    ("non, changer la ville", "city"),
    ("لا، بدل المدينة", "city"),
    ("بدل الوقت", "appointment_slot"),
    ("changer l'heure", "appointment_slot"),
    ("bdel lwe9t", "appointment_slot"),
    ("bghit nbdel lmaw3id", "appointment_slot"),
    ("une autre agence", "agency_id"),
    ("بدل الوكالة", "agency_id"),
    ("modifier le numéro", "phone"),
    ("non, le nom est faux", "full_name"),
    ("changer de service", "service"),
])
def test_a_change_request_names_the_answer_to_change(text: str, field: str) -> None:
    assert change_request(text) == field


@pytest.mark.parametrize("text", ["Youssef Alami", "non, pas de rdv", "bghit rdv f tanja", "oui", "tanger", ""])
def test_other_replies_are_not_change_requests(text: str) -> None:
    assert change_request(text) is None


def test_a_denied_reply_naming_a_field_is_a_change_request() -> None:
    assert change_request("la ville", denied=True) == "city"
    assert change_request("الوكالة", denied=True) == "agency_id"


@pytest.mark.parametrize(("text", "expected"), [
    ("modifier", True), ("nbdel", True), ("بدل", True), ("je veux changer", True), ("oui", False), ("Salma", False),
])
def test_a_bare_change_request(text: str, expected: bool) -> None:
    assert wants_change(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("autres dates", True), ("plus tard", True), ("la semaine prochaine", True), ("moraha", True),
    ("nharat okhrin", True), ("تواريخ أخرى", True), ("من بعد", True), ("oui", False), ("lundi 10h", False),
])
def test_asking_for_later_dates(text: str, expected: bool) -> None:
    assert wants_later(text) is expected


def test_options_survive_the_slot_round_trip() -> None:
    options = [Option("fes", "Agence Fès", ("وكالة فاس",), data={"id": "fes", "address": None}), SLOTS[0]]
    stored = options_to_slot("agency_id", options)
    assert options_from_slot(stored, "agency_id") == options
    assert options_from_slot(stored, "agency_id")[0].data == {"id": "fes", "address": None}
    assert options_from_slot(stored, "service") == []
    assert options_from_slot(None) == []


@pytest.mark.parametrize(("lang", "day", "label"), [
    ("fr", "mardi 12 janvier", "mar. 12/01 · 14:30"),
    ("ar", "الثلاثاء 12 يناير", "الثلاثاء 12/01 · 14:30"),
    ("ary", "الثلاثاء 12 يناير", "الثلاثاء 12/01 · 14:30"),
    ("ary_latn", "tlat 12 janvier", "tlat 12/01 · 14:30"),
])
def test_dates_are_written_in_the_users_language(lang: str, day: str, label: str) -> None:
    moment = datetime(2027, 1, 12, 14, 30, tzinfo=CASA)
    assert format_day(moment, lang) == day
    assert short_label(moment, lang) == label
    assert len(short_label(moment, lang)) <= 24  # a WhatsApp list row


@pytest.mark.parametrize(("text", "day"), [
    ("en fait je peux pas jeudi, tu peux le décaler à lundi ?", date(2027, 1, 11)),
    ("déplacer mon rdv du jeudi au lundi", date(2027, 1, 11)), ("bdel mn l5mis l tnin", date(2027, 1, 11)),
    ("بغيت نبدل الموعد ليوم الاثنين", date(2027, 1, 11)), ("reporter à demain", date(2027, 1, 9)),
    ("déplacer au 20 janvier", date(2027, 1, 20)),
    # the appointment's own day, or none
    ("décaler mon rdv de jeudi", None), ("bghit nbdel lmaw3id dyal l5mis", None), ("بغيت نبدل موعد الخميس", None),
    ("je veux déplacer mon rendez-vous", None), ("نبدل الموعد ديالي", None),
])
def test_the_day_a_move_asks_for(text: str, day: date | None) -> None:
    assert target_day(text, FRIDAY) == day
