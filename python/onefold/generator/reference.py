"""Reference data the simulation draws from: names, places, phone plans, products.

Kept as plain tuples so it is obvious what the data looks like; `lookups.py` turns it
into arrays once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class City:
    name: str
    weight: float
    # Fixed leading part of the postcode; the country's `postcode_tail` completes it.
    postcode_stems: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A state (US) or a whole country: where a person lives decides law and time zone."""

    country: str  # ISO 3166-1 alpha-2
    province_code: str | None  # Shopify province_code (US states only here)
    jurisdiction: str  # privacy jurisdiction, e.g. 'EU-DE', 'UK', 'US-CA'
    weight: float  # share of persons
    utc_offset_minutes: int  # standard time
    cities: tuple[City, ...]
    # Leading digits of national mobile/area numbers valid in this region.
    phone_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class Country:
    code: str
    calling_code: str
    currency: str
    name_group: str  # which name lists residents are drawn from
    national_number_length: int
    postcode_tail: str  # 'digits2', 'digits3', 'none', 'nl_letters', 'uk_inward'


COUNTRIES: tuple[Country, ...] = (
    Country("US", "1", "USD", "en", 10, "digits2"),
    Country("GB", "44", "GBP", "en", 10, "uk_inward"),
    Country("DE", "49", "EUR", "de", 11, "digits3"),
    Country("FR", "33", "EUR", "fr", 9, "none"),
    Country("NL", "31", "EUR", "nl", 9, "nl_letters"),
)


def _range_stems(low: int, high: int, width: int, step: int = 1) -> tuple[str, ...]:
    return tuple(str(value).zfill(width) for value in range(low, high + 1, step))


REGIONS: tuple[Region, ...] = (
    Region("US", "CA", "US-CA", 13.5, -480, (
        City("Los Angeles", 4, ("900", "901")),
        City("San Francisco", 2, ("941",)),
        City("San Diego", 2, ("921",)),
        City("San Jose", 1.5, ("951",)),
        City("Sacramento", 1, ("958",)),
        City("Oakland", 1, ("946",)),
    ), ("213", "310", "323", "408", "415", "510", "562", "619", "626", "650", "714", "818",
        "858", "916", "925", "949")),
    Region("US", "NY", "US-NY", 9.0, -300, (
        City("New York", 4, ("100", "101")),
        City("Brooklyn", 2, ("112",)),
        City("Buffalo", 1, ("142",)),
        City("Rochester", 1, ("146",)),
        City("Albany", 0.5, ("122",)),
    ), ("212", "315", "347", "516", "518", "585", "631", "646", "716", "718", "845", "914",
        "917")),
    Region("US", "TX", "US-TX", 9.0, -360, (
        City("Houston", 3, ("770",)),
        City("Dallas", 2.5, ("752",)),
        City("Austin", 2, ("787",)),
        City("San Antonio", 2, ("782",)),
        City("Fort Worth", 1, ("761",)),
    ), ("210", "214", "281", "512", "682", "713", "817", "832", "915", "972")),
    Region("US", "FL", "US-FL", 5.5, -300, (
        City("Miami", 2, ("331",)),
        City("Orlando", 1.5, ("328",)),
        City("Tampa", 1.5, ("336",)),
        City("Jacksonville", 1, ("322",)),
    ), ("305", "321", "407", "561", "727", "786", "813", "904", "954")),
    Region("US", "IL", "US-IL", 4.5, -360, (
        City("Chicago", 4, ("606",)),
        City("Naperville", 1, ("605",)),
        City("Springfield", 0.5, ("627",)),
    ), ("217", "224", "312", "630", "708", "773", "815", "847")),
    Region("US", "WA", "US-WA", 3.5, -480, (
        City("Seattle", 3, ("981",)),
        City("Spokane", 1, ("992",)),
        City("Tacoma", 1, ("984",)),
    ), ("206", "253", "360", "425", "509")),
    Region("GB", None, "UK", 18.0, 0, (
        City("London", 6, ("SW1A", "SW11", "SE10", "E14", "N1", "NW3", "W2", "EC1V", "E2")),
        City("Manchester", 2, ("M1", "M4", "M14", "M20")),
        City("Birmingham", 2, ("B1", "B15", "B29")),
        City("Leeds", 1.5, ("LS1", "LS6", "LS8")),
        City("Glasgow", 1.5, ("G1", "G12", "G41")),
        City("Edinburgh", 1, ("EH1", "EH3", "EH10")),
        City("Bristol", 1, ("BS1", "BS6", "BS8")),
    ), ("71", "72", "73", "771", "772", "773", "774", "775", "776", "777", "780", "781", "784",
        "785", "786", "787", "788", "789", "790", "792", "794", "795", "796", "797", "798")),
    Region("DE", None, "EU-DE", 15.0, 60, (
        City("Berlin", 4, ("10", "12", "13")),
        City("Hamburg", 2.5, ("20", "22")),
        City("München", 2.5, ("80", "81")),
        City("Köln", 2, ("50", "51")),
        City("Frankfurt am Main", 1.5, ("60",)),
        City("Stuttgart", 1.5, ("70",)),
        City("Leipzig", 1, ("04",)),
    ), ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "174",
        "175", "176", "177", "178", "179")),
    Region("FR", None, "EU-FR", 12.0, 60, (
        City("Paris", 5, tuple(f"750{n:02d}" for n in range(1, 21))),
        City("Lyon", 2, tuple(f"6900{n}" for n in range(1, 10))),
        City("Marseille", 2, tuple(f"130{n:02d}" for n in range(1, 17))),
        City("Toulouse", 1.5, ("31000", "31100", "31200", "31300", "31400", "31500")),
        City("Lille", 1, ("59000", "59160", "59260", "59800")),
        City("Bordeaux", 1, ("33000", "33100", "33200", "33300", "33800")),
        City("Nantes", 1, ("44000", "44100", "44200", "44300")),
    ), ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78")),
    Region("NL", None, "EU-NL", 10.0, 60, (
        City("Amsterdam", 4, _range_stems(1011, 1109, 4)),
        City("Rotterdam", 2.5, _range_stems(3011, 3089, 4)),
        City("Den Haag", 2, _range_stems(2491, 2599, 4)),
        City("Utrecht", 2, _range_stems(3511, 3585, 4)),
        City("Eindhoven", 1, _range_stems(5611, 5658, 4)),
    ), ("61", "62", "63", "64", "65")),
)  # fmt: skip

# US exchange codes (NXX): N is 2-9; N11 service codes and the fictional 555 are avoided.
US_EXCHANGE_FORBIDDEN = ("211", "311", "411", "511", "555", "611", "711", "811", "911")

# Postcode letters that real UK/NL postcodes use.
UK_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
NL_LETTERS = "ABCEGHJKLMNPRTVWXZ"

STREETS: dict[str, tuple[str, ...]] = {
    "US": ("Main St", "Oak St", "Maple Ave", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
           "Park Ave", "Lake Dr", "Hillside Rd", "Sunset Blvd", "Broadway", "2nd St", "5th Ave",
           "Mission St", "Lincoln Way"),
    "GB": ("High Street", "Station Road", "Church Road", "Victoria Road", "Green Lane",
           "Manor Road", "Park Road", "Queens Road", "Kings Road", "The Crescent", "Mill Lane",
           "London Road"),
    "DE": ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße",
           "Bergstraße", "Lindenstraße", "Kirchstraße", "Goethestraße", "Schillerstraße",
           "Waldweg", "Am Markt"),
    "FR": ("rue de la République", "avenue Victor Hugo", "rue Pasteur", "boulevard Voltaire",
           "rue Jean Jaurès", "rue de la Paix", "avenue de la Gare", "rue du Moulin",
           "place de l'Église", "rue Nationale", "allée des Tilleuls", "rue des Écoles"),
    "NL": ("Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianastraat",
           "Beatrixlaan", "Wilhelminastraat", "Prinsengracht", "Keizersgracht", "Oranjestraat",
           "Nieuwstraat"),
}  # fmt: skip

# Whether the house number comes after the street name in this country.
NUMBER_AFTER_STREET = {"US": False, "GB": False, "DE": True, "FR": False, "NL": True}

# --------------------------------------------------------------------------- names

FIRST_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group: (female, male)
    "en": (
        ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
         "Sarah", "Karen", "Nancy", "Lisa", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily",
         "Donna", "Michelle", "Amanda", "Melissa", "Deborah", "Stephanie", "Rebecca", "Laura",
         "Katherine", "Amy", "Angela", "Anna", "Emma", "Nicole", "Helen", "Samantha", "Christine",
         "Rachel", "Catherine", "Victoria", "Olivia", "Kelly", "Christina", "Lauren", "Megan",
         "Hannah", "Abigail", "Alice", "Sophia", "Grace", "Danielle", "Isabella", "Diana",
         "Natalie", "Charlotte", "Jacqueline", "Patsy", "Susanna", "Rosemary"),
        ("James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas",
         "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven",
         "Andrew", "Paul", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald",
         "Jason", "Edward", "Jeffrey", "Ryan", "Jacob", "Nicholas", "Eric", "Jonathan",
         "Stephen", "Benjamin", "Samuel", "Gregory", "Alexander", "Patrick", "Frank", "Raymond",
         "Jack", "Peter", "Henry", "Zachary", "Nathan", "Oliver", "Harry", "Liam", "Noah",
         "Ethan", "Theodore", "Frederick", "Lawrence", "Gerald"),
    ),
    "de": (
        ("Anna", "Maria", "Ursula", "Monika", "Petra", "Sabine", "Claudia", "Susanne", "Andrea",
         "Stefanie", "Julia", "Katharina", "Laura", "Lena", "Lea", "Hannah", "Sophie", "Lisa",
         "Johanna", "Jana", "Nicole", "Sandra", "Birgit", "Heike", "Renate", "Karin",
         "Gabriele", "Christina", "Franziska", "Anja", "Melanie", "Kerstin", "Marie", "Emma",
         "Mia", "Leonie", "Elisabeth", "Margarete"),
        ("Peter", "Michael", "Thomas", "Andreas", "Wolfgang", "Klaus", "Jürgen", "Stefan",
         "Frank", "Uwe", "Christian", "Markus", "Matthias", "Alexander", "Martin", "Tobias",
         "Daniel", "Sebastian", "Florian", "Jan", "Lukas", "Felix", "Jonas", "Maximilian",
         "Leon", "Paul", "Niklas", "Dieter", "Hans", "Günter", "Manfred", "Bernd", "Ralf",
         "Jörg", "Sven", "Moritz", "Johannes", "Wilhelm"),
    ),
    "fr": (
        ("Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Françoise", "Valérie",
         "Sandrine", "Christine", "Céline", "Sophie", "Julie", "Camille", "Léa", "Manon",
         "Chloé", "Emma", "Inès", "Sarah", "Laura", "Aurélie", "Émilie", "Caroline",
         "Stéphanie", "Élodie", "Anne", "Hélène", "Claire", "Louise", "Juliette", "Pauline",
         "Mathilde", "Margaux", "Élisabeth"),
        ("Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "François", "Christophe",
         "Patrick", "Laurent", "Frédéric", "Julien", "Sébastien", "Thomas", "Antoine", "Maxime",
         "Alexandre", "Hugo", "Lucas", "Louis", "Théo", "Nathan", "Mathieu", "Olivier", "Éric",
         "Stéphane", "Guillaume", "Vincent", "Benoît", "Romain", "Jérôme", "Arnaud", "Jacques",
         "Bernard"),
    ),
    "nl": (
        ("Anna", "Emma", "Sophie", "Julia", "Lotte", "Sanne", "Anouk", "Lisa", "Eva", "Fleur",
         "Maria", "Johanna", "Cornelia", "Elisabeth", "Wilhelmina", "Petronella", "Ingrid",
         "Linda", "Marieke", "Femke", "Esther", "Marloes", "Saskia", "Anke", "Mirjam"),
        ("Jan", "Johannes", "Hendrik", "Cornelis", "Willem", "Pieter", "Gerrit", "Jacobus",
         "Dirk", "Thomas", "Daan", "Sem", "Lucas", "Levi", "Bram", "Jesse", "Ruben", "Thijs",
         "Lars", "Bas", "Joost", "Sander", "Martijn", "Jeroen", "Niels", "Wouter", "Maarten"),
    ),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
           "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas",
           "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
           "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green",
           "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
           "Phillips", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris",
           "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Kelly",
           "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray",
           "Hughes", "Price", "Patel", "Khan", "O'Brien", "O'Connor", "Walsh", "Nguyen", "Kim",
           "Chen", "Singh"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
           "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
           "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann",
           "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer",
           "Huber", "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung",
           "Hahn", "Yılmaz"),  # noqa: RUF001
    "fr": ("Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
           "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David",
           "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
           "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc",
           "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier",
           "Garcia", "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel",
           "Mathieu", "Gautier", "Masson", "Da Silva", "Benali"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
           "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters",
           "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits",
           "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs", "de Haan", "Vermeulen",
           "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn", "de Bruin",
           "van der Heijden", "Schouten", "van Beek", "Willems", "van Vliet", "Hoekstra",
           "Maas", "Verhoeven", "Koster", "Prins", "Yilmaz"),
}  # fmt: skip

# Informal forms people give instead of their legal first name.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzy"), "Katherine": ("Kate", "Katie", "Kathy"),
    "Catherine": ("Cathy", "Cat"), "Michael": ("Mike", "Mikey"), "Richard": ("Rick", "Rich"),
    "James": ("Jim", "Jimmy"), "Joseph": ("Joe", "Joey"), "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Steven": ("Steve",), "Stephen": ("Steve",), "Andrew": ("Andy", "Drew"),
    "Joshua": ("Josh",), "Kenneth": ("Ken", "Kenny"), "Timothy": ("Tim",), "Ronald": ("Ron",),
    "Edward": ("Ed", "Eddie", "Ted"), "Jeffrey": ("Jeff",), "Jacob": ("Jake",),
    "Nicholas": ("Nick",), "Jonathan": ("Jon",), "Benjamin": ("Ben",), "Samuel": ("Sam",),
    "Gregory": ("Greg",), "Alexander": ("Alex",), "Patrick": ("Pat",), "Raymond": ("Ray",),
    "Peter": ("Pete",), "Henry": ("Hank", "Harry"), "Zachary": ("Zach",), "Nathan": ("Nate",),
    "Theodore": ("Ted", "Theo"), "Frederick": ("Fred", "Freddie"), "Lawrence": ("Larry",),
    "Gerald": ("Gerry",), "Donald": ("Don",), "David": ("Dave",), "John": ("Johnny", "Jack"),
    "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Patty", "Trish"),
    "Margaret": ("Maggie", "Peggy"),
    "Susan": ("Sue",), "Susanna": ("Sue", "Susie"), "Jessica": ("Jess",), "Kimberly": ("Kim",),
    "Deborah": ("Debbie", "Deb"), "Stephanie": ("Steph",), "Rebecca": ("Becky", "Becca"),
    "Amanda": ("Mandy",), "Samantha": ("Sam",), "Christine": ("Chris",), "Christina": ("Tina",),
    "Victoria": ("Vicky", "Tori"), "Abigail": ("Abby",), "Jacqueline": ("Jackie",),
    "Barbara": ("Barb",), "Sandra": ("Sandy",), "Nicole": ("Nikki",), "Alexandra": ("Alex",),
    "Isabella": ("Bella",), "Rosemary": ("Rosie",), "Danielle": ("Dani",),
    "Katharina": ("Kathi", "Katja"), "Maximilian": ("Max",), "Johannes": ("Hannes", "Hans"),
    "Christian": ("Chris",), "Stefanie": ("Steffi",), "Franziska": ("Franzi",),
    "Tobias": ("Tobi",), "Sebastian": ("Basti",), "Wolfgang": ("Wolf",),
    "Margarete": ("Grete",), "Gabriele": ("Gabi",), "Wilhelm": ("Willi",),
    "Nicolas": ("Nico",), "Alexandre": ("Alex",), "Frédéric": ("Fred",),
    "Élisabeth": ("Babette", "Lisette"), "Sébastien": ("Seb",), "Maxime": ("Max",),
    "Cornelis": ("Kees",), "Hendrik": ("Henk",), "Wilhelmina": ("Mien", "Willemijn"),
    "Pieter": ("Piet",), "Jacobus": ("Koos", "Sjaak"), "Petronella": ("Nel", "Petra"),
    "Cornelia": ("Corrie", "Nelleke"), "Johanna": ("Anneke", "Hanna"), "Willem": ("Wim",),
    "Gerrit": ("Gert",),
}  # fmt: skip

# ASCII spellings used when a name becomes part of an email address.
TRANSLITERATIONS = {
    "ä": "ae",
    "ö": "oe",
    "ü": "ue",
    "ß": "ss",
    "ı": "i",  # noqa: RUF001
    "'": "",
    " ": "",
}

# --------------------------------------------------------------------------- email

FREE_EMAIL_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "US": (("gmail.com", 45), ("yahoo.com", 14), ("outlook.com", 9), ("hotmail.com", 8),
           ("icloud.com", 11), ("aol.com", 3), ("comcast.net", 2)),
    "GB": (("gmail.com", 38), ("hotmail.co.uk", 12), ("yahoo.co.uk", 8), ("outlook.com", 10),
           ("icloud.com", 10), ("btinternet.com", 6), ("hotmail.com", 6)),
    "DE": (("gmail.com", 28), ("web.de", 22), ("gmx.de", 20), ("t-online.de", 10),
           ("outlook.com", 6), ("yahoo.com", 4), ("icloud.com", 6)),
    "FR": (("gmail.com", 38), ("orange.fr", 16), ("hotmail.fr", 10), ("free.fr", 10),
           ("laposte.net", 6), ("yahoo.fr", 6), ("outlook.com", 6), ("icloud.com", 5)),
    "NL": (("gmail.com", 40), ("hotmail.com", 16), ("ziggo.nl", 12), ("kpnmail.nl", 8),
           ("outlook.com", 10), ("icloud.com", 8)),
}  # fmt: skip

COMPANY_EMAIL_DOMAINS = (
    "northwind-traders.com", "contoso.com", "fabrikam.com", "initech.com", "globex-corp.com",
    "acme-industries.com", "umbrella-group.com", "hooli.com", "vandelay-import.com",
    "blueriver-analytics.com", "stellar-logistics.de", "maison-lumiere.fr", "polder-tech.nl",
    "thamesbridge.co.uk",
)  # fmt: skip
COMPANY_EMAIL_SHARE = 0.08  # of primary addresses; second addresses are work ones half the time

COMPANIES = (
    "Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Initech", "Globex Corporation",
    "Acme Industries", "Umbrella Group", "Hooli", "Vandelay Import", "Blue River Analytics",
    "Stellar Logistics GmbH", "Maison Lumière SARL", "Polder Tech BV", "Thames Bridge plc",
    "Pied Piper", "Soylent Corp", "Wonka Confections", "Dunder Mifflin",
)  # fmt: skip

GMAIL_TAGS = ("shop", "news", "promo", "deals", "orders", "spam", "onefold", "2024")

# --------------------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price_usd_cents: int


PRODUCTS: tuple[Product, ...] = (
    Product("SKU-10001", "Merino Crew Sweater", "knitwear", 8900),
    Product("SKU-10002", "Cashmere Scarf", "accessories", 12900),
    Product("SKU-10003", "Organic Cotton Tee", "tops", 2900),
    Product("SKU-10004", "Linen Button-Down Shirt", "tops", 6900),
    Product("SKU-10005", "Relaxed Chino", "bottoms", 7900),
    Product("SKU-10006", "Selvedge Denim Jeans", "bottoms", 11900),
    Product("SKU-10007", "Waxed Field Jacket", "outerwear", 24900),
    Product("SKU-10008", "Down Puffer Vest", "outerwear", 15900),
    Product("SKU-10009", "Wool Beanie", "accessories", 3400),
    Product("SKU-10010", "Leather Belt", "accessories", 4900),
    Product("SKU-10011", "Canvas Tote Bag", "accessories", 3900),
    Product("SKU-10012", "Running Sneaker", "footwear", 12900),
    Product("SKU-10013", "Chelsea Boot", "footwear", 21900),
    Product("SKU-10014", "Wool Socks 3-Pack", "accessories", 2400),
    Product("SKU-10015", "Hooded Sweatshirt", "tops", 6400),
    Product("SKU-10016", "Rain Shell Jacket", "outerwear", 17900),
    Product("SKU-10017", "Silk Blouse", "tops", 9900),
    Product("SKU-10018", "Pleated Midi Skirt", "bottoms", 8400),
    Product("SKU-10019", "Knit Cardigan", "knitwear", 9400),
    Product("SKU-10020", "Leather Card Holder", "accessories", 3900),
    Product("SKU-10021", "Sunglasses", "accessories", 11900),
    Product("SKU-10022", "Trail Shorts", "bottoms", 4900),
    Product("SKU-10023", "Polo Shirt", "tops", 5400),
    Product("SKU-10024", "Turtleneck Sweater", "knitwear", 9900),
    Product("SKU-10025", "Slip-On Loafer", "footwear", 15900),
    Product("SKU-10026", "Gift Card", "gifts", 5000),
)

CURRENCY_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}

# --------------------------------------------------------------------------- web

SITE_URL = "https://www.onefold-shop.com"

STATIC_PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Onefold Shop | Considered clothing"),
    ("/collections/new-arrivals", "New Arrivals | Onefold Shop"),
    ("/collections/sale", "Sale | Onefold Shop"),
    ("/collections/knitwear", "Knitwear | Onefold Shop"),
    ("/collections/outerwear", "Outerwear | Onefold Shop"),
    ("/collections/footwear", "Footwear | Onefold Shop"),
    ("/search", "Search | Onefold Shop"),
    ("/pages/about", "About us | Onefold Shop"),
    ("/pages/shipping", "Shipping & Returns | Onefold Shop"),
    ("/blog/how-to-care-for-wool", "How to care for wool | Onefold Journal"),
    ("/blog/capsule-wardrobe", "Building a capsule wardrobe | Onefold Journal"),
    ("/cart", "Your cart | Onefold Shop"),
)
CART_PATH = "/cart"
CHECKOUT_PATH = "/checkouts/c/checkout"
LOGIN_PATH = "/account/login"
REGISTER_PATH = "/account/register"

REFERRERS: tuple[tuple[str, float], ...] = (
    ("", 30), ("https://www.google.com/", 34), ("https://www.bing.com/", 3),
    ("https://duckduckgo.com/", 2), ("https://www.facebook.com/", 8),
    ("https://www.instagram.com/", 9), ("https://t.co/", 2), ("https://www.pinterest.com/", 3),
    ("https://mail.google.com/", 5), ("https://www.reddit.com/", 2), ("https://www.tiktok.com/", 2),
)  # fmt: skip

BROWSER_USER_AGENTS: tuple[tuple[str, float], ...] = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Safari/605.1.15", 15),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", 6),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", 7),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 24),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.6367.82 Mobile Safari/537.36", 10),
    ("Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/123.0.6312.118 Mobile Safari/537.36", 8),
)  # fmt: skip

APP_PLATFORMS: tuple[tuple[str, str, float], ...] = (
    # library name, user agent, weight
    ("analytics-ios", "OnefoldShop/5.12.1 (iPhone; iOS 17.4.1; Scale/3.00)", 60),
    ("analytics-android", "OnefoldShop/5.12.0 (Linux; U; Android 14; Pixel 7 Build/UQ1A)", 40),
)  # fmt: skip

# First octets of public IPv4 ranges used by consumer ISPs (no private or reserved ranges).
PUBLIC_IP_FIRST_OCTETS = (24, 50, 67, 68, 71, 73, 76, 81, 82, 86, 88, 90, 93, 94, 109, 176, 185,
                          188, 212, 217)  # fmt: skip

# --------------------------------------------------------------------------- stores

STORES_PER_COUNTRY = {"US": 12, "GB": 6, "DE": 5, "FR": 4, "NL": 3}

# --------------------------------------------------------------------------- email

CAMPAIGN_THEMES = (
    "new-arrivals", "weekend-sale", "back-in-stock", "journal", "members-early-access",
    "gift-guide", "last-chance", "care-guide", "restock-alert", "seasonal-edit",
)  # fmt: skip

# --------------------------------------------------------------------------- junk

JUNK_EMAILS = ("test@test.com", "noemail@example.com", "none@none.com", "null", "n/a",
               "unknown", "")  # fmt: skip
JUNK_PHONES = ("0000000000", "1234567890", "9999999999", "null", "n/a", "unknown", "")
JUNK_USER_IDS = ("null", "undefined", "anonymous", "unknown", "0", "")
JUNK_ANONYMOUS_IDS = ("00000000-0000-0000-0000-000000000000", "null", "undefined", "anonymous",
                      "unknown", "")  # fmt: skip
IMPOSSIBLE_PHONES = ("123", "+1 555 0000000000000", "12345", "+44 0", "000-000", "+49 12",
                     "99999999999999999", "+33 00")  # fmt: skip
INVALID_TIMESTAMPS = ("not a date", "2026-13-45T00:00:00Z", "", "2026-02-30T10:00:00Z",
                      "31/12/2025 25:61", "N/A")  # fmt: skip
OUT_OF_RANGE_TIMESTAMPS = ("1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z",
                           "1900-01-01T00:00:00Z", "0001-01-01T00:00:00Z")  # fmt: skip
