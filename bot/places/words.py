"""What people type that is not a place: greetings, thanks and asking for help, and the kind
of activity they look for ("English class in Leeds"), in the bot's 20 languages.

These are input words, not the bot's own texts: they live here as data, one list per
language, and are compared after ``normalize_name`` (as place names are), so "Merci!",
"MERCI" and "merci" are one word, and "مرحباً" is "مرحبا".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from bot.domain.vocabulary import Category
from bot.places.names import normalize_name
from bot.places.postcodes import looks_like_postcode

Said = Literal["hello", "help"]

# fmt: off
# Greetings, "thanks", "ok" and "menu": answered with the main menu.
HELLO: Mapping[str, tuple[str, ...]] = {
    "en": (
        "hi", "hello", "hey", "hiya", "helo", "hii", "good morning", "good afternoon",
        "good evening", "morning", "greetings", "start", "menu", "main menu", "thanks",
        "thank you", "thanks a lot", "many thanks", "thx", "ty", "cheers", "ok", "okay",
        "salam", "salaam", "assalamu alaikum", "as salamu alaykum",
    ),
    "ar": (
        "مرحبا", "اهلا", "اهلا وسهلا", "أهلا بك", "هلا", "السلام عليكم", "سلام عليكم", "سلام",
        "صباح الخير", "مساء الخير", "شكرا", "شكرا لك", "شكرا جزيلا", "مشكور", "تسلم",
        "يعطيك العافية", "جزاك الله خيرا", "القائمة",
    ),
    "fa": (
        "سلام", "درود", "سلام علیکم", "صبح بخیر", "عصر بخیر", "روز بخیر", "وقت بخیر",
        "مرسی", "ممنون", "ممنونم", "خیلی ممنون", "سپاس", "سپاسگزارم", "متشکرم", "تشکر",
        "دستت درد نکنه", "منو",
    ),
    "fa_AF": (
        "سلام", "سلام علیکم", "السلام علیکم", "صبح بخیر", "روز بخیر", "تشکر", "تشکر زیاد",
        "بسیار تشکر", "ممنون", "سپاس", "مهربانی",
    ),
    "ps": (
        "سلام", "السلام علیکم", "ستړي مه شې", "په خیر راغلې", "مننه", "ډېره مننه", "ډیره مننه",
        "تشکر", "مهرباني",
    ),
    "ur": (
        "السلام علیکم", "اسلام علیکم", "سلام", "ہیلو", "آداب", "صبح بخیر", "شکریہ", "بہت شکریہ",
        "شکریا", "مہربانی", "جزاک اللہ",
    ),
    "ckb": (
        "سڵاو", "سلاو", "بەیانی باش", "ئێوارە باش", "ڕۆژباش", "سوپاس", "زۆر سوپاس", "دەستت خۆش",
    ),
    "ku": (
        "silav", "slav", "merheba", "roj baş", "rojbaş", "êvar baş", "spas", "sipas",
        "gelek spas", "zor spas", "spas dikim", "sipas dikim",
    ),
    "ti": ("ሰላም", "ከመይ ኣለኹም", "ከመይ ኣለኻ", "ከመይ ኣለኺ", "የቐንየለይ", "የቐንየልና", "ብጣዕሚ የቐንየለይ"),
    "am": ("ሰላም", "ጤና ይስጥልኝ", "እንደምን ነህ", "እንደምን ነሽ", "አመሰግናለሁ", "በጣም አመሰግናለሁ", "እናመሰግናለን"),
    "so": (
        "salaan", "iska warran", "nabad", "subax wanaagsan", "galab wanaagsan", "see tahay",
        "assalamu calaykum", "mahadsanid", "mahad sanid", "mahadsantahay", "aad baad u mahadsantahay",
    ),
    "sq": (
        "përshëndetje", "tungjatjeta", "tung", "mirëdita", "mirëmëngjes", "mirëmbrëma",
        "si je", "faleminderit", "shumë faleminderit", "ju faleminderit", "flm", "rrofsh",
    ),
    "vi": (
        "xin chào", "chào", "chào bạn", "chào buổi sáng", "cảm ơn", "cám ơn", "cảm ơn bạn",
        "cảm ơn nhiều", "xin cảm ơn",
    ),
    "bn": ("হ্যালো", "নমস্কার", "আসসালামু আলাইকুম", "সালাম", "শুভ সকাল", "ধন্যবাদ", "অনেক ধন্যবাদ", "শুকরিয়া"),
    "tr": (
        "merhaba", "selam", "selamlar", "günaydın", "iyi günler", "iyi akşamlar",
        "selamün aleyküm", "mrb", "slm", "teşekkürler", "teşekkür ederim", "çok teşekkürler",
        "sağol", "sağ ol", "eyvallah", "tşk",
    ),
    "uk": (
        "привіт", "вітаю", "добрий день", "доброго дня", "добрий ранок", "добрий вечір",
        "дякую", "дуже дякую", "щиро дякую", "спасибі", "меню",
    ),
    "ru": (
        "привет", "здравствуйте", "здравствуй", "добрый день", "доброе утро", "добрый вечер",
        "спасибо", "спасибо большое", "большое спасибо", "благодарю", "спс", "меню",
    ),
    "fr": ("bonjour", "salut", "bonsoir", "coucou", "merci", "merci beaucoup", "merci bien"),
    "es": (
        "hola", "buenos días", "buenas tardes", "buenas noches", "buenas", "saludos", "gracias",
        "muchas gracias", "mil gracias", "menú",
    ),
    "cy": (
        "shwmae", "shwmai", "sut mae", "bore da", "prynhawn da", "noswaith dda", "diolch",
        "diolch yn fawr", "diolch o galon",
    ),
}

# Asking for help: answered with /help.
HELP: Mapping[str, tuple[str, ...]] = {
    "en": (
        "help", "help me", "i need help", "info", "what can you do", "how does this work",
        "commands", "what is this",
    ),
    "ar": ("مساعدة", "مساعده", "المساعدة", "ساعدني", "ساعدوني", "احتاج مساعدة"),
    "fa": ("کمک", "راهنما", "راهنمایی", "کمکم کن", "کمک لازم دارم"),
    "fa_AF": ("کمک", "رهنما", "رهنمایی", "کمک کنید", "کمک کن"),
    "ps": ("مرسته", "مرسته وکړئ", "لارښود", "لارښوونه", "مرسته غواړم"),
    "ur": ("مدد", "مدد کریں", "میری مدد کریں", "رہنمائی"),
    "ckb": ("یارمەتی", "یارمەتیم بدە", "ڕێنمایی"),
    "ku": ("alîkarî", "harîkarî", "alîkariyê", "alîkarî bike"),
    "ti": ("ሓገዝ", "ሓግዙኒ", "ሓገዝ እደሊ"),
    "am": ("እርዳታ", "እርዱኝ", "እርዳኝ"),
    "so": ("caawimaad", "caawin", "i caawi", "gargaar"),
    "sq": ("ndihmë", "ndihmo", "më ndihmo", "ndihmoni"),
    "vi": ("giúp", "giúp đỡ", "giúp tôi", "trợ giúp", "hướng dẫn"),
    "bn": ("সাহায্য", "সাহায্য করুন", "হেল্প"),
    "tr": ("yardım", "yardım et", "yardım edin", "yardıma ihtiyacım var"),
    "uk": ("допомога", "допоможіть", "допоможи", "довідка"),
    "ru": ("помощь", "помогите", "помоги", "справка"),
    "fr": ("aide", "aidez moi", "aide moi", "au secours", "aider"),
    "es": ("ayuda", "ayúdame", "ayuda por favor", "socorro"),
    "cy": ("cymorth", "helpu", "helpwch fi", "help"),
}

# Words said around a greeting or a request that change nothing ("hi there", "help please").
POLITE: Mapping[str, tuple[str, ...]] = {
    "en": ("there", "bot", "please", "pls", "so much", "very much", "everyone", "all", "again"),
    "ar": ("من فضلك", "لو سمحت", "يا"),
    "fa": ("لطفا", "لطفاً", "خیلی"),
    "fa_AF": ("لطفا", "لطفاً", "زیاد"),
    "ps": ("مهرباني وکړئ", "لطفاً"),
    "ur": ("براہ کرم", "پلیز"),
    "ckb": ("تکایە",),
    "ku": ("ji kerema xwe",),
    "ti": ("በጃኻ", "በጃኺ"),
    "am": ("እባክህ", "እባክሽ", "እባክዎ"),
    "so": ("fadlan",),
    "sq": ("të lutem", "ju lutem"),
    "vi": ("vui lòng", "làm ơn"),
    "bn": ("দয়া করে", "প্লিজ"),
    "tr": ("lütfen",),
    "uk": ("будь ласка",),
    "ru": ("пожалуйста",),
    "fr": ("s'il vous plaît", "s'il te plaît", "svp", "stp", "à tous"),
    "es": ("por favor", "a todos"),
    "cy": ("os gwelwch yn dda", "plis"),
}

# The start of words that name a kind of activity. A stem of four letters or more matches
# the words it begins ("англійськ" matches "англійської"); a shorter one only itself.
KINDS: Mapping[Category, Mapping[str, tuple[str, ...]]] = {
    Category.ENGLISH: {
        "en": ("english", "esol"), "ar": ("انجليز", "انكليز", "الانجليز", "الانكليز"),
        "fa": ("انگلیسی",), "fa_AF": ("انگلیسی",), "ps": ("انګلیسي", "انګریزي", "انگلیسی"),
        "ur": ("انگریزی", "انگلش"), "ckb": ("ئینگلیزی", "ئینگلیزی"), "ku": ("îngilîzî", "ingilizî"),
        "ti": ("እንግሊዝኛ",), "am": ("እንግሊዝኛ",), "so": ("ingiriis",), "sq": ("anglisht",),
        "vi": ("tiếng anh",), "bn": ("ইংরেজি",), "tr": ("ingilizce",), "uk": ("англійськ",),
        "ru": ("английск",), "fr": ("anglais", "d'anglais"), "es": ("inglés",), "cy": ("saesneg",),
    },
    Category.CONVERSATION: {
        "en": ("conversation", "chat"), "ar": ("محادثة", "دردشة"), "fa": ("گفتگو", "مکالمه"),
        "fa_AF": ("گفتگو", "مکالمه"), "ps": ("خبرې اترې",), "ur": ("بات چیت", "گفتگو"),
        "ckb": ("گفتوگۆ",), "ku": ("axaftin", "sohbet"), "ti": ("ዕላል",), "am": ("ውይይት",),
        "so": ("sheeko",), "sq": ("bised",), "vi": ("trò chuyện",), "bn": ("আড্ডা", "কথোপকথন"),
        "tr": ("sohbet",), "uk": ("розмовн",), "ru": ("разговорн",), "fr": ("conversation",),
        "es": ("conversación",), "cy": ("sgwrs",),
    },
    Category.SPORT: {
        "en": ("sport", "football", "soccer", "cricket", "gym", "swimming", "running"),
        "ar": ("رياضة", "كرة القدم", "كرة"), "fa": ("ورزش", "فوتبال"), "fa_AF": ("ورزش", "فوتبال"),
        "ps": ("ورزش", "فوټبال", "لوبې"), "ur": ("کھیل", "فٹبال", "کرکٹ"), "ckb": ("وەرزش", "تۆپی پێ"),
        "ku": ("werziş", "futbol"), "ti": ("ስፖርት", "ኩዕሶ"), "am": ("ስፖርት", "እግር ኳስ"),
        "so": ("ciyaar", "kubadda cagta"), "sq": ("sport", "futboll"), "vi": ("thể thao", "bóng đá"),
        "bn": ("খেলা", "ফুটবল", "ক্রিকেট"), "tr": ("spor", "futbol"), "uk": ("спорт", "футбол"),
        "ru": ("спорт", "футбол"), "fr": ("sport", "foot"), "es": ("deporte", "fútbol"),
        "cy": ("chwaraeon", "pêl-droed"),
    },
    Category.ARTS: {
        "en": ("art", "arts", "craft", "music", "sewing", "knitting", "painting"),
        "ar": ("فن", "فنون", "رسم", "موسيقى"), "fa": ("هنر", "نقاشی", "موسیقی"),
        "fa_AF": ("هنر", "نقاشی", "موسیقی"), "ps": ("هنر", "موسیقي"), "ur": ("فن", "آرٹ", "موسیقی"),
        "ckb": ("هونەر", "مۆسیقا"), "ku": ("huner", "muzîk"), "ti": ("ስነ ጥበብ", "ሙዚቃ"),
        "am": ("ጥበብ", "ሙዚቃ"), "so": ("farshaxan", "muusig"), "sq": ("art", "muzik"),
        "vi": ("nghệ thuật", "âm nhạc"), "bn": ("শিল্প", "গান"), "tr": ("sanat", "müzik"),
        "uk": ("мистецтв", "музик"), "ru": ("искусств", "музык"), "fr": ("art", "musique"),
        "es": ("arte", "música"), "cy": ("celf", "cerddoriaeth"),
    },
    Category.FOOD: {
        "en": ("food", "meal", "lunch", "dinner", "breakfast", "cooking"),
        "ar": ("طعام", "اكل", "وجبة", "غداء"), "fa": ("غذا", "ناهار", "آشپزی"),
        "fa_AF": ("غذا", "نان", "آشپزی"), "ps": ("خواړه", "ډوډۍ"), "ur": ("کھانا",),
        "ckb": ("خواردن",), "ku": ("xwarin",), "ti": ("መግቢ",), "am": ("ምግብ",), "so": ("cunto",),
        "sq": ("ushqim",), "vi": ("đồ ăn", "bữa ăn"), "bn": ("খাবার",), "tr": ("yemek",),
        "uk": ("харчуванн", "обід"), "ru": ("еда", "питани", "обед"), "fr": ("repas", "nourriture"),
        "es": ("comida",), "cy": ("bwyd",),
    },
    Category.ADVICE: {
        "en": ("advice", "legal", "lawyer", "solicitor"), "ar": ("استشار", "قانوني", "محامي"),
        "fa": ("مشاوره", "وکیل", "حقوقی"), "fa_AF": ("مشوره", "وکیل", "حقوقی"),
        "ps": ("مشوره", "وکیل"), "ur": ("مشورہ", "وکیل", "قانونی"), "ckb": ("ڕاوێژ", "پارێزەر"),
        "ku": ("şêwir", "parêzer"), "ti": ("ምኽሪ", "ጠበቓ"), "am": ("ምክር", "ጠበቃ"),
        "so": ("talo", "qareen"), "sq": ("këshill", "avokat"), "vi": ("tư vấn", "luật sư"),
        "bn": ("পরামর্শ", "আইনি", "উকিল"), "tr": ("danışman", "avukat", "hukuk"),
        "uk": ("консультац", "юрист", "юридичн"), "ru": ("консультац", "юрист", "юридическ"),
        "fr": ("conseil", "avocat", "juridique"), "es": ("asesor", "abogado", "legal"),
        "cy": ("cyngor", "cyfreith"),
    },
    Category.HEALTH: {
        "en": ("health", "doctor", "wellbeing"), "ar": ("صحة", "صحي", "طبيب"),
        "fa": ("سلامت", "دکتر", "پزشک"), "fa_AF": ("صحت", "داکتر"), "ps": ("روغتیا", "ډاکټر"),
        "ur": ("صحت", "ڈاکٹر"), "ckb": ("تەندروستی", "دکتۆر"), "ku": ("tenduristî", "doktor"),
        "ti": ("ጥዕና", "ሓኪም"), "am": ("ጤና", "ሐኪም"), "so": ("caafimaad", "dhakhtar"),
        "sq": ("shëndet", "mjek"), "vi": ("sức khỏe", "bác sĩ"), "bn": ("স্বাস্থ্য", "ডাক্তার"),
        "tr": ("sağlık", "doktor"), "uk": ("здоров'я", "лікар"), "ru": ("здоровь", "врач"),
        "fr": ("santé", "médecin"), "es": ("salud", "médico"), "cy": ("iechyd", "meddyg"),
    },
    Category.FAMILIES: {
        "en": ("children", "kids", "family", "families", "parents", "baby"),
        "ar": ("اطفال", "طفل", "عائل", "اسرة"), "fa": ("کودک", "بچه", "خانواده"),
        "fa_AF": ("کودک", "اطفال", "خانواده"), "ps": ("ماشوم", "کورن"), "ur": ("بچے", "بچوں", "خاندان"),
        "ckb": ("منداڵ", "خێزان"), "ku": ("zarok", "malbat"), "ti": ("ቆልዑ", "ስድራ"),
        "am": ("ልጆች", "ቤተሰብ"), "so": ("carruur", "caruur", "qoys"), "sq": ("fëmij", "familj"),
        "vi": ("trẻ em", "gia đình"), "bn": ("শিশু", "পরিবার"), "tr": ("çocuk", "aile"),
        "uk": ("дітей", "діти", "дитяч", "сімей", "сім'я"), "ru": ("детей", "дети", "детск", "семей", "семья"),
        "fr": ("enfant", "famille"), "es": ("niño", "niña", "familia"), "cy": ("plant", "teulu"),
    },
    Category.WOMEN: {
        "en": ("women", "woman", "ladies", "mums", "mothers"), "ar": ("نساء", "نسائ", "سيدات"),
        "fa": ("زنان", "بانوان"), "fa_AF": ("زنان", "خانم"), "ps": ("ښځ",), "ur": ("خواتین", "عورت"),
        "ckb": ("ئافرەت", "ژنان"), "ku": ("jinan",), "ti": ("ኣንስቲ", "ደቂ ኣንስትዮ"), "am": ("ሴቶች",),
        "so": ("haween", "dumar"), "sq": ("gratë",), "vi": ("phụ nữ",), "bn": ("নারী", "মহিলা"),
        "tr": ("kadın",), "uk": ("жінок", "жіноч", "жінки"), "ru": ("женщин", "женск"),
        "fr": ("femme",), "es": ("mujer",), "cy": ("menywod",),
    },
    Category.FAITH: {
        "en": ("faith", "church", "mosque", "prayer", "temple", "gurdwara"),
        "ar": ("مسجد", "كنيسة", "صلاة"), "fa": ("مسجد", "کلیسا", "نماز"), "fa_AF": ("مسجد", "کلیسا", "نماز"),
        "ps": ("جومات", "مسجد"), "ur": ("مسجد", "گرجا", "نماز"), "ckb": ("مزگەوت", "کڵێسا"),
        "ku": ("mizgeft", "dêr"), "ti": ("ቤተ ክርስቲያን", "መስጊድ"), "am": ("ቤተ ክርስቲያን", "መስጊድ"),
        "so": ("masjid", "kaniisad"), "sq": ("xhami", "kish"), "vi": ("nhà thờ", "chùa"),
        "bn": ("মসজিদ", "গির্জা", "মন্দির"), "tr": ("cami", "kilise"), "uk": ("церкв", "мечет"),
        "ru": ("церк", "мечет"), "fr": ("église", "mosquée"), "es": ("iglesia", "mezquita"),
        "cy": ("capel", "eglwys"),
    },
}

# Words around a kind of activity and a place that say nothing more ("class in Leeds").
AROUND: Mapping[str, tuple[str, ...]] = {
    "en": (
        "in", "near", "at", "around", "for", "the", "a", "an", "of", "class", "classes", "lesson",
        "lessons", "course", "courses", "group", "groups", "club", "session", "sessions",
        "activity", "activities", "cafe", "learn", "learning", "language", "near me", "i",
        "need", "want", "looking", "find", "where", "is", "are", "any", "there", "me", "to",
    ),
    "ar": ("في", "قرب", "بالقرب من", "من", "دروس", "درس", "صف", "كورس", "دورة", "لغة", "اللغة", "تعلم"),
    "fa": ("در", "نزدیک", "کلاس", "دوره", "زبان", "آموزش", "برای"),
    "fa_AF": ("در", "نزدیک", "صنف", "کلاس", "دوره", "زبان", "آموزش"),
    "ps": ("په", "کې", "کښې", "نږدې", "ټولګی", "کورس", "ژبه", "ژبې", "زده کړه"),
    "ur": ("میں", "کے قریب", "قریب", "کلاس", "کورس", "زبان", "سیکھنا"),
    "ckb": ("لە", "نزیک", "پۆل", "کۆرس", "زمان", "زمانی", "فێربوون"),
    "ku": ("li", "nêzîk", "ders", "kurs", "ziman", "zimanê"),
    "ti": ("ኣብ", "ትምህርቲ", "ቋንቋ", "ክፍሊ"),
    "am": ("በ", "ውስጥ", "ትምህርት", "ቋንቋ", "ክፍል"),
    "so": ("ee", "gudaha", "ku", "ag", "fasal", "fasalka", "koorso", "luqad", "luqadda"),
    "sq": ("në", "pranë", "kurs", "kursi", "kurse", "kursin", "mësim", "gjuhë", "gjuha"),
    "vi": ("ở", "tại", "gần", "lớp", "lớp học", "học", "khóa học"),
    "bn": ("এ", "তে", "কাছে", "ক্লাস", "কোর্স", "ভাষা", "শেখা"),
    "tr": ("de", "da", "te", "ta", "yakın", "kurs", "kursu", "ders", "dersi", "sınıf"),
    "uk": ("в", "у", "біля", "курси", "курс", "заняття", "уроки", "мова", "мови"),
    "ru": ("в", "во", "около", "рядом", "курсы", "курс", "занятия", "уроки", "язык", "языка"),
    "fr": ("à", "près", "de", "du", "le", "la", "les", "cours", "classe", "atelier", "langue"),
    "es": ("en", "cerca", "de", "el", "la", "clase", "clases", "curso", "cursos", "taller"),
    "cy": ("yn", "ger", "dosbarth", "dosbarthiadau", "cwrs", "gwersi"),
}

# fmt: on

_ARTICLES = ("ال", "وال", "بال", "و")  # joined to Arabic words: "الانجليزية", "والرياضة"
_MIN_STEM = 4


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a search text asks for, once the kind of activity and a postcode are taken out."""

    category: str | None  # a Category value
    place: str  # normalised: a town, the postcode or district when one was given, or ""
    town: str = ""  # with a postcode: the other words (searched when postcodes are not known)


def _phrases(lists: Iterable[Iterable[str]]) -> frozenset[tuple[str, ...]]:
    return frozenset(
        tuple(key.split()) for words in lists for word in words if (key := normalize_name(word))
    )


@cache
def _tables() -> tuple[
    frozenset[tuple[str, ...]],
    frozenset[tuple[str, ...]],
    frozenset[tuple[str, ...]],
    dict[tuple[str, ...], str],
    frozenset[tuple[str, ...]],
]:
    kinds = {
        stem: category.value
        for category, by_language in KINDS.items()
        for stem in _phrases(by_language.values())
    }
    return (
        _phrases(HELLO.values()),
        _phrases(HELP.values()),
        _phrases(POLITE.values()),
        kinds,
        _phrases(AROUND.values()),
    )


def _cover(words: list[str], phrases: frozenset[tuple[str, ...]]) -> list[tuple[str, ...]] | None:
    """The phrases that make up ``words`` exactly (longest first at each point), or None."""
    found: list[tuple[str, ...]] = []
    i = 0
    longest = max((len(p) for p in phrases), default=0)
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            if tuple(words[i : i + n]) in phrases:
                found.append(tuple(words[i : i + n]))
                i += n
                break
        else:
            return None
    return found


def said(text: str) -> Said | None:
    """The text is "hello" (a greeting, thanks, "menu"), "help" (asking for help), or None."""
    words = normalize_name(text).split()
    if not words or len(words) > 8:
        return None
    hello, help_, polite, _kinds, _around = _tables()
    parts = _cover(words, hello | help_ | polite)
    if parts is None or all(p in polite and p not in hello | help_ for p in parts):
        return None
    return "help" if any(p in help_ for p in parts) else "hello"


def _stem_matches(word: str, stem: str) -> bool:
    """Whether a typed word is a form of the stem. Latin-script words take a short ending
    only ("churches", "familja"), so that place names that start with one ("Chatham",
    "Kidsgrove", "Churchdown") are not read as a kind of activity."""
    if word == stem:
        return True
    if len(stem) < _MIN_STEM:
        return False
    if stem.isascii():
        if word in (stem + "s", stem + "es"):
            return True
        return len(stem) > _MIN_STEM and word.startswith(stem) and len(word) - len(stem) <= 3
    if word.startswith(stem):
        return True
    return any(word.startswith(a) and word[len(a) :].startswith(stem) for a in _ARTICLES)


def wanted(text: str) -> Wanted | None:
    """A kind of activity and a place ("English class in Leeds"), a kind of activity alone
    (place ""), or a town and a postcode district ("Leeds LS6"); None when the text is none
    of these (it is then a place, or nothing)."""
    words = normalize_name(text).split()
    if not words or len(words) > 12:
        return None
    hello, help_, polite, kinds, around = _tables()
    category: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(words):
        for stem, value in kinds.items():
            n = len(stem)
            if (
                category in (None, value)
                and i + n <= len(words)
                and all(_stem_matches(w, s) for w, s in zip(words[i : i + n], stem, strict=True))
            ):
                category = value
                i += n
                break
        else:
            rest.append(words[i])
            i += 1
    postcode = _postcode_in(rest)
    if postcode is not None:
        town = " ".join(_strip(" ".join(rest).replace(postcode, " ").split(), around))
        return Wanted(category, postcode, town)
    if category is None:
        return None
    place = _strip(rest, around | hello | help_ | polite)  # "Hi, English class in Leeds please"
    return Wanted(category, " ".join(place))


def _postcode_in(words: list[str]) -> str | None:
    """The postcode or district among the words ("leeds ls6", "ls6 1aa leeds"), if there is
    one and other words beside it (a postcode alone is a place already)."""
    for n in (2, 1):
        for i in range(len(words) - n + 1):
            chunk = " ".join(words[i : i + n])
            if len(words) > n and any(c.isdigit() for c in chunk) and looks_like_postcode(chunk):
                return chunk
    return None


def _strip(words: list[str], around: frozenset[tuple[str, ...]]) -> list[str]:
    """The words without those that only go around a place ("in", "near", "class")."""
    longest = max(len(p) for p in around)
    kept: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            if tuple(words[i : i + n]) in around:
                i += n
                break
        else:
            kept.append(words[i])
            i += 1
    return kept
