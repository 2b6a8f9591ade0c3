"""Write ``school_examples.csv`` from ``school_templates.py`` (deterministic, seed 20261121).

Run from the project root: ``python data/training/generate.py``. Each template is
filled several times with different fictional names, places and numbers, and
some copies get the surface noise real comments have (lower case, no
apostrophes, typos, emoji, openers such as "Not being funny but").
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import general_templates as G  # noqa: E402
import school_templates as T  # noqa: E402

SEED = 20261121
HELD_OUT_PERCENT = 12
FILLS = {
    "self_harm": 6, "abuse_disclosure": 6, "sexual": 6, "staff_allegation": 7,
    "personal_data": 7, "threat": 6, "hate": 6, "bullying": 6, "defamation": 7,
    "spam": 6, "criticism": 6, "benign": 6,
}  # fmt: skip
TEMPLATES = {
    "self_harm": T.SELF_HARM, "abuse_disclosure": T.ABUSE, "sexual": T.SEXUAL,
    "staff_allegation": T.STAFF_ALLEGATION, "personal_data": T.PERSONAL_DATA,
    "threat": T.THREAT, "hate": T.HATE, "bullying": T.BULLYING, "defamation": T.DEFAMATION,
    "spam": T.SPAM, "criticism": T.CRITICISM + G.CRITICISM,
    "benign": T.BENIGN + G.BENIGN + G.BENIGN_PROFANE,
}  # fmt: skip
TEMPLATES["bullying"] = T.BULLYING + G.BULLYING + G.BULLYING_PROFANE
TEMPLATES["threat"] = T.THREAT + G.THREAT
TEMPLATES["hate"] = T.HATE + G.HATE
TEMPLATES["self_harm"] = T.SELF_HARM + G.SELF_HARM
TEMPLATES["criticism"] += G.CRITICISM_MORE
TEMPLATES["threat"] += G.THREAT_MORE + G.THREAT_VEILED
TEMPLATES["abuse_disclosure"] = T.ABUSE + G.ABUSE_MORE
TEMPLATES["sexual"] = T.SEXUAL + G.SEXUAL_MORE
TEMPLATES["defamation"] = T.DEFAMATION + G.DEFAMATION_MORE
TEMPLATES["spam"] = T.SPAM + G.SPAM_MORE
TEMPLATES["personal_data"] = T.PERSONAL_DATA + G.PERSONAL_DATA_MORE
TEMPLATES["bullying"] += G.BULLYING_MORE
TEMPLATES["hate"] += G.HATE_MORE
TEMPLATES["benign"] += G.BENIGN_MORE

TITLES_M = ["Mr", "Mr", "Mr", "Sir"]
TITLES_F = ["Mrs", "Miss", "Ms", "Mrs", "Miss"]
SURNAMES = [
    "Patel", "Wood", "Hussain", "Kowalski", "Adeyemi", "O'Brien", "Baxter", "Rowe", "Lin",
    "Fraser", "Thornton", "Begum", "Mclean", "Ashworth", "Jenkins", "Dobson", "Iqbal",
    "Kaczmarek", "Foster", "Mwangi", "Pearce", "Holloway", "Sandhu", "Greaves", "Tait",
    "Lambert", "Okoro", "Ferreira", "Booth", "Quinn", "Ellison", "Rahman", "Doyle", "Marsh",
]  # fmt: skip
ROLES = [
    "the head", "the headteacher", "the deputy head", "the Year 3 teacher", "the Year 5 teacher",
    "the PE teacher", "the reception teacher", "the SENCo", "the caretaker", "the Year 1 teacher",
    "her class teacher", "his teacher", "the football coach", "the head teacher",
]  # fmt: skip
FIRST = [
    "Alfie", "Isla", "Mason", "Freya", "Zara", "Kai", "Ruby", "Leo", "Amelia", "Oscar",
    "Maisie", "Harvey", "Ava", "Tyler", "Sienna", "Reggie", "Esme", "Jayden", "Aisha", "Bilal",
    "Chloe", "Noah", "Lily", "Archie", "Poppy", "Kian", "Hollie", "Dexter", "Mila", "Ibrahim",
    "Tilly", "Logan", "Nia", "Ezra", "Layla", "Callum", "Orla", "Ravi", "Skye", "Theo",
]  # fmt: skip
KIDS = [
    ("my son", "him"), ("my daughter", "her"), ("my lad", "him"), ("my little girl", "her"),
    ("our youngest", "her"), ("my boy", "him"), ("my 7 year old", "him"), ("our girl", "her"),
    ("my eldest", "him"), ("my niece", "her"), ("my grandson", "him"),
]  # fmt: skip
STREETS = [
    "Rowan Close", "Mill Lane", "Orchard Way", "Beech Avenue", "Kestrel Drive", "Church Street",
    "Fern Road", "Hawthorn Crescent", "Bramble Court", "Station Road", "Willow Grove",
    "Meadow Rise", "Albert Terrace", "Foxglove Way", "Quarry Hill",
]  # fmt: skip
SCHOOLS = ["Hollybrook", "this school", "Brookfield Primary", "St Anne's", "Ashcombe Primary",
           "that school", "Larkhill", "the school"]  # fmt: skip
YEARS = ["Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "reception", "Y4", "yr 5"]
OPENERS = ["", "", "", "", "Not being funny but ", "Honestly ", "Sorry to post here but ",
           "Tbh ", "Just saying, ", "Can I just say ", "FYI ", "Anyone else think "]  # fmt: skip
ENDERS = ["", "", "", "", "!!", ".", " 😡", " 😢", " 🙄", " smh", " x", "...", " 👀"]


def _staff(rng: random.Random) -> str:
    if rng.random() < 0.25:
        return rng.choice(ROLES)
    titles = TITLES_M if rng.random() < 0.45 else TITLES_F
    return f"{rng.choice(titles)} {rng.choice(SURNAMES)}"


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 4:
        return text
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 4 and w.isalpha():
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def fill(template: str, rng: random.Random) -> str:
    """Fill one template's slots with fictional values."""
    kid, pos = rng.choice(KIDS)
    staff = _staff(rng)
    first, surname = rng.choice(FIRST), rng.choice(SURNAMES)
    num = rng.randint(1, 98)
    street_name = rng.choice(STREETS)
    values = {
        "staff": staff, "staff_lc": staff.lower(), "kid": kid, "pos": pos, "name": first,
        "full": f"{first} {surname}",
        "surname2": SURNAMES[num * 7 % len(SURNAMES)], "yr": rng.choice(YEARS),
        "street": f"{num} {street_name}",
        "street_name": street_name, "phone": f"07700 900{rng.randint(0, 999):03d}",
        "school": rng.choice(SCHOOLS), "laugh": rng.choice(["😂", "🤣", "lol", ""]),
        "link": f"{rng.choice(['bit', 'deals', 'win', 'promo', 'go'])}.example/"
        f"{rng.choice(['x7k', 'free', 'claim', 'offer', 'join'])}{rng.randint(1, 99)}",
        "email": f"{first.lower()}.{surname.lower().replace(chr(39), '')}{rng.randint(1, 99)}"
        "@mail.example",
        "cls": f"{rng.randint(1, 6)}{rng.choice('ABCHOPW')}",
        "postcode": f"AS{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}"
        f"{rng.choice('LNPQRSTUWXYZ')}",
        "staff_name_only": f"{rng.choice(TITLES_F + TITLES_M)} {rng.choice(SURNAMES)}",
        "at": rng.choice(["@USER", "@user", "@jo_b", "@Kaz_77", "@marky", "@DaveW", ""]),
        "unstaff": rng.choice(["a dinner lady", "one of the TAs", "a supply teacher"]),
    }  # fmt: skip
    text = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    return text


def vary(text: str, rng: random.Random) -> str:
    """Add the surface noise of real comments."""
    r = rng.random()
    if r < 0.15:
        text = text.lower()
    elif r < 0.22:
        text = text.lower().replace("'", "")
    if rng.random() < 0.15:
        text = _typo(text, rng)
    opener = rng.choice(OPENERS)
    if opener and text[:1].isupper() and not text.startswith(("I ", "I'")):
        text = text[0].lower() + text[1:]
    return f"{opener}{text}{rng.choice(ENDERS)}".strip()


def main() -> None:
    """Write the CSV next to this script."""
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str]] = []
    held: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for label, templates in TEMPLATES.items():
        for t_index, template in enumerate(templates):
            rng = random.Random(f"{SEED}:{label}:{template}")
            for k in range(FILLS[label]):
                text = fill(template, rng)
                if k > 0:
                    text = vary(text, rng)
                key = re.sub(r"\W+", " ", text.lower()).strip()
                if key in seen:
                    continue
                seen.add(key)
                group = f"{label}:{t_index}"
                (held if _held_out(group) else rows).append((text, label, group))
    for name, data in (("school_examples.csv", rows), ("school_heldout.csv", held)):
        with (HERE / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label", "template"])
            writer.writerows(data)
        print(f"wrote {len(data)} rows to {name}")  # noqa: T201


def _held_out(group: str) -> bool:
    """About 12% of templates (all their fills) are kept for evaluation only."""
    return int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % 100 < HELD_OUT_PERCENT


if __name__ == "__main__":
    main()
