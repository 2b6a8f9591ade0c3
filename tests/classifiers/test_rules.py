"""Rule engine and RuleClassifier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Platform


def _comment(text: str, n: int = 1) -> Comment:
    return Comment(
        school_id="hollybrook",
        platform=Platform.FACEBOOK,
        external_id=f"c{n}",
        thread_id="t1",
        parent_id=None,
        author_id="a1",
        author_name="A Parent",
        text=text,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        permalink="https://facebook.example/c1",
    )


def test_one_verdict_per_comment_in_order(policy: SchoolPolicy) -> None:
    texts = ["Lovely assembly today!", "i just want to disappear, i dont want to be here anymore"]
    verdicts = RuleClassifier(policy).classify([_comment(t, i) for i, t in enumerate(texts)])
    assert [v.primary for v in verdicts] == [Category.BENIGN, Category.SELF_HARM]
    assert verdicts[0].flagged == (Category.BENIGN,)
    assert verdicts[1].classifier.startswith("rules@")


def test_self_harm_span_points_into_original_text(policy: SchoolPolicy) -> None:
    text = "honestly I w a n t to d i e"
    v = RuleClassifier(policy).classify_text(text)
    assert v.primary is Category.SELF_HARM
    ev = next(e for e in v.evidence if e.category is Category.SELF_HARM)
    assert ev.span is not None
    assert text[ev.span[0] : ev.span[1]] == ev.matched
    assert "d i e" in ev.matched
    assert v.explanation.startswith("Flagged as self-harm:")


def test_threat_and_laughing_idiom(policy: SchoolPolicy) -> None:
    rc = RuleClassifier(policy)
    assert (
        rc.classify_text("You better watch your back in the car park.").primary is Category.THREAT
    )
    joke = rc.classify_text("If he loses one more water bottle I swear I'll kill him 😂")
    assert joke.primary is Category.BENIGN


def test_staff_allegation_needs_identifiable_staff(policy: SchoolPolicy) -> None:
    rc = RuleClassifier(policy)
    named = rc.classify_text("Mr Reeve grabbed my son by the arm and dragged him out")
    assert named.primary is Category.STAFF_ALLEGATION
    assert named.staff_mentioned == ("mr_reeve",)
    unnamed = rc.classify_text("one of the dinner ladies grabbed my son by the arm")
    assert unnamed.primary is Category.ABUSE_DISCLOSURE
    assert unnamed.staff_mentioned == ()


def test_staff_named_in_context_makes_pronoun_identifiable(policy: SchoolPolicy) -> None:
    rc = RuleClassifier(policy)
    ctx = Context(post_text="Well done to Miss Bello's class", parent_text="")
    v = rc.classify_text("she shoved my daughter into the wall", ctx)
    assert v.primary is Category.STAFF_ALLEGATION


def test_defamation_needs_school_subject(policy: SchoolPolicy) -> None:
    rc = RuleClassifier(policy)
    v = rc.classify_text("The head has been fiddling the budget for years, everyone knows")
    assert v.primary is Category.DEFAMATION
    assert "head" in v.staff_mentioned


def test_school_lexicon_term(policy: SchoolPolicy) -> None:
    v = RuleClassifier(policy).classify_text("what a HOLLYBROOK   horror show")
    assert v.primary is Category.BULLYING
    assert any(e.source == "lexicon" for e in v.evidence)


def test_pupil_with_details_is_personal_data_and_name_not_copied(policy: SchoolPolicy) -> None:
    v = RuleClassifier(policy).classify_text("Poppy Lindqvist in 3B has epilepsy, keep an eye out")
    assert v.primary is Category.PERSONAL_DATA
    assert v.pupils_mentioned == 1
    assert all("Lindqvist" not in e.matched for e in v.evidence)
    assert "Lindqvist" not in v.explanation


def test_unrostered_child_with_details_is_personal_data_and_name_not_copied(
    policy: SchoolPolicy,
) -> None:
    rules = RuleClassifier(policy)
    v = rules.classify_text("Harvey Doyle (Y5) has an EHCP for autism, they all pick on him")
    assert v.primary is Category.PERSONAL_DATA
    ev = next(e for e in v.evidence if e.rule_id == "pd.child_name_details")
    assert ev.span == (0, 12) and ev.matched == ""
    assert "Doyle" not in v.explanation
    # a rostered member of staff named without a title is not a child
    staff = rules.classify_text("Grace Bello in Year 3 is brilliant")
    assert "pd.child_name_details" not in [e.rule_id for e in staff.evidence]


def test_advert_number_is_not_personal_data(policy: SchoolPolicy) -> None:
    v = RuleClassifier(policy).classify_text(
        "Tutoring from £15/hr, use code HOLLY10 for 10% off, call 07700 900321"
    )
    assert v.primary is Category.SPAM


@pytest.mark.parametrize(
    "text",
    [
        "U have won a holiday! To claim call 07700 900654 now, T&Cs apply",
        "Txt STOP to opt out. 150p/msg. Fun Chat Ltd, PO Box 42, Leeds LS1 4AB",
    ],
)
def test_scam_text_number_is_not_personal_data(policy: SchoolPolicy, text: str) -> None:
    v = RuleClassifier(policy).classify_text(text)
    assert "sp.business_contact" in [e.rule_id for e in v.evidence]
    assert v.scores[Category.PERSONAL_DATA] < 0.5


@pytest.mark.parametrize(
    "text",
    [
        "her mum's number is 07700 900123, your claim is true",
        "How do I opt out of the photo consent? ring me on 07700 900123",
    ],
)
def test_personal_number_without_advert_words_stays_personal_data(
    policy: SchoolPolicy, text: str
) -> None:
    assert RuleClassifier(policy).classify_text(text).primary is Category.PERSONAL_DATA


def test_hate_obfuscated(policy: SchoolPolicy) -> None:
    v = RuleClassifier(policy).classify_text("the SEN unit is full of r3t4rds")
    assert v.primary is Category.HATE


def test_contexts_length_must_match(policy: SchoolPolicy) -> None:
    import pytest

    with pytest.raises(ValueError):
        RuleClassifier(policy).classify([_comment("hi")], [Context(), Context()])


def test_fear_of_a_strict_teacher_is_not_a_disclosure_alone(policy: SchoolPolicy) -> None:
    rules = RuleClassifier(policy)
    strict = rules.classify_text("Mrs Doyle shouts a lot and my son's a bit scared of her")
    assert strict.scores[Category.ABUSE_DISCLOSURE] < 0.5
    home = rules.classify_text("she is scared of her dad and won't say why")
    assert home.primary is Category.ABUSE_DISCLOSURE


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("won't be around much longer so have fun at the disco without me", Category.SELF_HARM),
        ("tell my mum im sorry for everything", Category.SELF_HARM),
        ("this is goodbye x", Category.SELF_HARM),
        ("i keep thinking about walking in front of a train on the way home", Category.SELF_HARM),
        ("gonna step out in front of the bus tomorrow", Category.SELF_HARM),
        ("might just let it all be over tonight", Category.SELF_HARM),
        ("ngl i think about ending it most nights", Category.SELF_HARM),
        ("getting picked on so much i dont see the point in living", Category.SELF_HARM),
        ("nobody would even miss me if i wasnt in the photo", Category.SELF_HARM),
        ("i feel like a burden to my family all the time", Category.SELF_HARM),
        (
            "she says she's going abroad for a special ceremony where the girls get cut",
            Category.ABUSE_DISCLOSURE,
        ),
        (
            "my friend is being sent back home this summer to get married and she's 13",
            Category.ABUSE_DISCLOSURE,
        ),
        (
            "I think the little girl next door is going to have FGM done in the holidays",
            Category.ABUSE_DISCLOSURE,
        ),
    ],
)
def test_goodbye_notes_plans_and_honour_based_abuse(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    """Goodbye notes and plans to step in front of traffic are self-harm; FGM and forced
    marriage (so-called honour-based abuse, KCSIE) are abuse disclosures."""
    assert RuleClassifier(policy).classify_text(text).primary is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("won't be here for sports day, enjoy it everyone!", Category.SELF_HARM),
        ("I walk in front of the bus stop every morning with the kids", Category.SELF_HARM),
        ("SATs week, let it be over already 😂", Category.SELF_HARM),
        ("I don't see the point in the new homework policy", Category.SELF_HARM),
        ("Been thinking about ending the piano lessons, any advice?", Category.SELF_HARM),
        ("Nobody will miss the old climbing frame, it was a death trap", Category.SELF_HARM),
        ("Don't want to be a burden on the office, happy to ring back", Category.SELF_HARM),
        (
            "A boy stepped out in front of a car at pick-up again, we need a crossing patrol",
            Category.SELF_HARM,
        ),
        ("Year 6 had a talk about FGM today and where to get help", Category.ABUSE_DISCLOSURE),
        (
            "The wedding ceremony abroad was gorgeous, they cut the cake at midnight",
            Category.ABUSE_DISCLOSURE,
        ),
    ],
)
def test_near_misses_of_those_rules_score_nothing(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    assert RuleClassifier(policy).classify_text(text).scores[category] == 0.0


def test_injuries_with_staff_named_are_not_an_abuse_disclosure(policy: SchoolPolicy) -> None:
    rules = RuleClassifier(policy)
    home = rules.classify_text("she has bruises on her arms again and won't say why")
    assert home.primary is Category.ABUSE_DISCLOSURE
    staff = rules.classify_text("Mr Quinn grabbed my son, he has marks on his arm")
    assert staff.scores[Category.ABUSE_DISCLOSURE] < 0.5


def test_a_child_who_shares_a_staff_surname_is_still_a_child(policy: SchoolPolicy) -> None:
    rules = RuleClassifier(policy)
    child = rules.classify_text("Alfie Reeve in Year 4, the one with ADHD, smashed it today")
    assert "pd.child_name_details" in [e.rule_id for e in child.evidence]
    staff = rules.classify_text("Tom Reeve in Year 5 is a brilliant teacher")
    assert "pd.child_name_details" not in [e.rule_id for e in staff.evidence]


@pytest.mark.parametrize(
    "text",
    [
        "Congratulations you have won a £500 prize! Txt WIN to 81618 to claim",
        "Like & share to enter our giveaway, tag 3 friends who need a new telly",
        "Crypto investment opportunity, returning 40% a month, ask me how",
        "Lash extensions 20% off for Hollybrook mums, this week only",
        "This is the official Hollybrook Primary page, our old page was hacked so follow us here",
    ],
)
def test_scam_signatures_are_spam_on_their_own(policy: SchoolPolicy, text: str) -> None:
    assert RuleClassifier(policy).classify_text(text).primary is Category.SPAM


@pytest.mark.parametrize(
    "text",
    [
        "Congratulations to the winner of the bake off competition, that cake looked amazing",
        "Thanks to the PTA for the book giveaway at the summer fair, the kids loved it",
        "You won't believe how much the children enjoyed the trip, thank you all",
        "Click the link in the newsletter to book your parents evening slot",
        "Year 6 parents don't forget to apply now for secondary school places",
        "Sign up today for the after school football club, only a few places left",
        "Free tickets for grandparents to the nativity? Or do we have to buy them?",
        "Follow us on Instagram for more photos from the trip! (from the school office)",
        "Please share my post, our dog went missing near the school this morning",
        "Check out my video of the nativity, they were all brilliant",
        "Is there a discount code for the uniform shop? It's so expensive",
        "I work from home so I can help on the school trip",
        "Hi dear, hope your little one is feeling better",
        "The PTA page has been hacked, don't click anything it sends you",
    ],
)
def test_a_parent_using_an_advert_word_is_not_spam(policy: SchoolPolicy, text: str) -> None:
    """ "Winner", "order now" or "follow us on" alone only tip a comment the model
    already calls spam (``SPAM_WORD``): the rules alone never hide it."""
    v = RuleClassifier(policy).classify_text(text)
    assert v.scores[Category.SPAM] < 0.5
    assert v.primary is Category.BENIGN


@pytest.mark.parametrize(
    "text",
    [
        "Email office@hollybrook.example for the trip forms",  # listed in school.contacts
        "The summer fair is at the school, 14 Church Lane, from 2pm",  # listed
        "Call the school on +44 1632 960000 and ask for the office",  # listed, written another way
        "Ring the school office on 01632 960123 if your child is off sick",  # not listed
        "the school's number is 01632 960555, they were really helpful",  # not listed
        "Absence line is option 1 on 01632 960482 btw",  # not listed
        "The after school club number is 01632 960517 if you're running late",  # not listed
        "For the SEN team it's senco@hollybrook.example, she's really helpful",  # its domain
    ],
)
def test_the_schools_own_contact_details_are_not_personal_data(
    policy: SchoolPolicy, text: str
) -> None:
    from classifiers.rules import CONTACT_CAP, RuleEngine

    res = RuleEngine(policy).scan(text)
    assert Category.PERSONAL_DATA not in res.scores
    assert res.caps == {Category.PERSONAL_DATA: CONTACT_CAP}
    assert "pd.school_contact" in [e.rule_id for e in res.evidence]


@pytest.mark.parametrize(
    "text",
    [
        "If your child needs to talk to someone, Childline is free on 0800 1111",
        "Worried about a child? The NSPCC helpline is 0808 800 5000",
        "You have WON a £1000 prize! Call 09050000327 NOW, T&Cs apply",
    ],
)
def test_an_organisations_number_is_not_personal_data(policy: SchoolPolicy, text: str) -> None:
    """Ofcom gives 03, 08, 09 and 116 numbers to organisations, never to one person."""
    from classifiers.rules import CONTACT_CAP, RuleEngine

    res = RuleEngine(policy).scan(text)
    assert Category.PERSONAL_DATA not in res.scores
    assert res.caps[Category.PERSONAL_DATA] == CONTACT_CAP


@pytest.mark.parametrize(
    ("text", "capped"),
    [
        ("NSPCC helpline for worried adults: 0808 800 5000", True),
        ("Samaritans 116 123, please reach out if you're struggling x", True),
        ("Young Minds parents helpline is 0808 802 5544, they were brilliant with us", True),
        ("Childline 0800 1111 www.childline.org.uk", True),
        ("Claim your prize on our helpline 09050000327 now, T&Cs apply", False),  # scam words
        ("Call our sales helpline on 0800 123 4567 for 20% off all uniform", False),  # selling
        ("Childline is 0800 1111, or text me on 07700 900123", False),  # a personal number too
        ("For the uniform shop ring 0845 601 2345", False),  # no helpline named
        ("The NSPCC assembly was brilliant, thank you", False),  # no number
    ],
)
def test_a_shared_helpline_is_not_spam(policy: SchoolPolicy, text: str, capped: bool) -> None:
    """Spam is hidden (Aycliffe 5); a helpline shared under a safeguarding post must not be."""
    from classifiers.rules import HELPLINE_SPAM_CAP, RuleEngine

    caps = RuleEngine(policy).scan(text).caps
    assert caps.get(Category.SPAM) == (HELPLINE_SPAM_CAP if capped else None)


@pytest.mark.parametrize(
    ("text", "advert"),
    [
        ("If your child needs to talk to someone, Childline is free on 0800 1111", False),
        ("Free, confidential advice from the NSPCC helpline on 0808 800 5000", False),
        ("You have WON a £1000 prize! Call 09050000327 NOW, T&Cs apply", True),
        ("Hot chat 24/7 on 09099 726 123, 150p per min", True),
    ],
)
def test_an_organisations_number_is_an_advert_only_beside_scam_words(
    policy: SchoolPolicy, text: str, advert: bool
) -> None:
    """ "Free" and "call now" sit beside helplines as often as beside adverts; premium-rate
    and prize words do not."""
    from classifiers.rules import RuleEngine

    rules = [e.rule_id for e in RuleEngine(policy).scan(text).evidence]
    assert ("sp.business_contact" in rules) is advert


def test_a_helpline_beside_a_personal_number_is_still_personal_data(
    policy: SchoolPolicy,
) -> None:
    from classifiers.rules import RuleEngine

    res = RuleEngine(policy).scan("Childline is 0800 1111, or text me on 07700 900123")
    assert res.scores[Category.PERSONAL_DATA] >= 0.5
    assert res.caps == {}


@pytest.mark.parametrize(
    "text",
    [
        "Ring me on 07700 900123 about the school office job",
        "Her mum lives at 22 Church Lane and her number is 07700 900456",
        "Ring the office on 01632 960123, or me at home on 01632 960777",
        "She lives at 4 Church Lane, right by the school",  # the school is 14 Church Lane
        "ring me at the office on 07700 900123",  # a mobile is someone's own
    ],
)
def test_a_personal_number_beside_the_schools_is_still_personal_data(
    policy: SchoolPolicy, text: str
) -> None:
    from classifiers.rules import RuleEngine

    res = RuleEngine(policy).scan(text)
    assert res.scores[Category.PERSONAL_DATA] >= 0.5
    assert res.caps == {}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "Mrs Carter says she'll look into it but a dinner lady pushed my son over at lunch",
            Category.ABUSE_DISCLOSURE,
        ),
        (
            "Mr Reeve told me the supply teacher dragged him out of the hall",
            Category.ABUSE_DISCLOSURE,
        ),
        ("A TA told Mr Reeve, then he grabbed my daughter by the arm", Category.STAFF_ALLEGATION),
        (
            "The dinner lady told me Miss Bello grabbed my son by the collar",
            Category.STAFF_ALLEGATION,
        ),
        ("Mr Reeve's class: the teacher grabbed my son by the arm", Category.STAFF_ALLEGATION),
    ],
)
def test_harm_by_staff_nobody_can_identify_is_an_abuse_disclosure(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    """Whoever is mentioned last before the harm did it: an unnamed dinner lady or supply
    teacher makes it an abuse disclosure even when the head is named elsewhere (the
    school-dev boundary); named staff, or "the teacher" of a named class, stay an
    allegation against staff."""
    assert RuleClassifier(policy).classify_text(text).primary is category


def test_they_are_disgusting_is_the_toilets_not_a_person(policy: SchoolPolicy) -> None:
    rules = RuleClassifier(policy)
    toilets = rules.classify_text("The toilets need sorting out, they are disgusting")
    assert toilets.scores[Category.BULLYING] < 0.5
    assert rules.classify_text("he is disgusting").primary is Category.BULLYING
    assert rules.classify_text("they are liars, the lot of them").primary is Category.BULLYING


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Reds forever, sorry Dave, your lot got battered on Saturday", Category.THREAT),
        ("RT @ItsFoodPorn: Oreo cheesecake bites!", Category.SEXUAL),
        ("Tilt your head back and take a bath, you'll feel better", Category.THREAT),
        ("she beat her own score in the maths quiz, well chuffed", Category.ABUSE_DISCLOSURE),
        ("he beat me at FIFA again 😂", Category.ABUSE_DISCLOSURE),
    ],
)
def test_a_word_inside_a_longer_word_matches_nothing(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    """Every alternative of a pattern is bounded by non-letters: "bat" is not "battered",
    "porn" is not "FoodPorn"; and beating someone's score is a game."""
    assert RuleClassifier(policy).classify_text(text).scores.get(category, 0.0) == 0.0


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("see you at the gates Orla 🔪🔪", Category.THREAT),
        ("turning up with baseball bats tomorrow", Category.THREAT),
        ("I can be your secret boyfriend, nobody has to know", Category.SEXUAL),
        ("great with little girls, message me privately", Category.SEXUAL),
        ("my dad beats me when he's drunk", Category.ABUSE_DISCLOSURE),
    ],
)
def test_plurals_and_endings_the_patterns_meant_still_match(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    assert RuleClassifier(policy).classify_text(text).scores[category] >= 0.45


def test_an_email_address_is_not_a_link(policy: SchoolPolicy) -> None:
    from classifiers.rules import RuleEngine

    engine = RuleEngine(policy)
    email = engine.scan("email me at jo.bloggs@mail.example about the party")
    assert "sp.url" not in [e.rule_id for e in email.evidence]
    link = engine.scan("club sign-ups at go.hollybrook.example/clubs")
    assert "sp.url" in [e.rule_id for e in link.evidence]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("🍆🍆🍆", Category.SEXUAL),
        ("👅👅 the tag rugby bit", Category.SEXUAL),
        ("the ones at the front in their leotards 🥵🍑", Category.SEXUAL),
        ("🐒🍌 nice picture of the new teacher", Category.HATE),
        ("Miss T grabbed my arm so hard i got a bruise", Category.STAFF_ALLEGATION),
        ("m r s  g r a n t pinches us wen no1 is lookin", Category.STAFF_ALLEGATION),
        ("Mr Dale yanks his ear when he gets it wrong", Category.STAFF_ALLEGATION),
        (
            "The breakfast club manager slapped my daughter's hand so hard it went red",
            Category.STAFF_ALLEGATION,
        ),
        ("one of the dinner ladys grabbed my arm and left a bruise", Category.ABUSE_DISCLOSURE),
        (
            "Mrs Vance laughed at his reading in front of everyone and called him a baby",
            Category.STAFF_ALLEGATION,
        ),
        ("i no where u live. see u tonite", Category.THREAT),
        ("A brick through the office window gets a reply faster", Category.THREAT),
        ("hope that building burns with every governor inside it", Category.THREAT),
        ("that teacher needs putting in hospital", Category.THREAT),
        ("funny how accidents seem to happen to people who cross me", Category.THREAT),
        ("If they want to speak their own language they can go back to Poland", Category.HATE),
        ("feel dead inside and want it to actually stop", Category.SELF_HARM),
        ("cant stop sh-ing since the holidays", Category.SELF_HARM),
        ("I found cuts on his thighs at bath time", Category.SELF_HARM),
        ("tell ur brother hes dead at break tmrw", Category.THREAT),
        ("Be a shame if the new sports hall had a little fire over half term", Category.THREAT),
        ("Anyone fancy a trip to the field with a can of petrol", Category.THREAT),
        ("She wants to lose the attitude or she'll be losing her teeth", Category.THREAT),
        ("why does she get picked, just cos she's a cripple", Category.HATE),
        ("Mrs Vance faked her degree, ask to see her certificate", Category.DEFAMATION),
        ("Mr Dale claimed a trip to Spain on expenses at the school", Category.DEFAMATION),
        ("Mr Dale got the boot from his last school", Category.DEFAMATION),
        ("Share this to 10 parents or your child will have bad luck all year", Category.SPAM),
        (
            "her home number: zero seven seven zero zero, nine zero zero, three five six",
            Category.PERSONAL_DATA,
        ),
        (
            "They left the free school meals list out, the twins at 9 Mill Row",
            Category.PERSONAL_DATA,
        ),
    ],
)
def test_rules_1_10_patterns(policy: SchoolPolicy, text: str, category: Category) -> None:
    """Runs of emoji, harm to a body part, threats to a place and 'go back to' a country
    (rules 1.10.0; docs/categories.md)."""
    assert RuleClassifier(policy).classify_text(text).primary is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Those kids were on fire today 🔥🔥 OAK HOUSE!!!", Category.SEXUAL),
        ("Sports day in this heat 🥵🥵 factor 50 everyone", Category.SEXUAL),
        ("Swimming gala tomorrow 💦💦 don't forget towels", Category.SEXUAL),
        ("Bake sale cakes 🤤🤤", Category.SEXUAL),
        ("She is so gorgeous 😘😘", Category.SEXUAL),
        ("my little monkeys 🐒🐒 after forest school", Category.HATE),
        ("Bananas for the fruit bowl 🍌🍌🍌", Category.HATE),
        ("We go back to Poland every summer to see my nan", Category.HATE),
        ("I just want it to stop raining before sports day", Category.SELF_HARM),
        ("Mr Dale read her story out in front of everyone, so proud", Category.STAFF_ALLEGATION),
        ("Mr Dale pulled a muscle in the staff relay 😂", Category.STAFF_ALLEGATION),
        (
            "Shout out to the lollipop lady, pulled my son back from the kerb",
            Category.ABUSE_DISCLOSURE,
        ),
        ("there's no where to park near the gate", Category.THREAT),
        ("I'm dead 😂 that dance", Category.THREAT),
        ("A bill designed to cripple the economy", Category.HATE),
        ("Mr Dale makes them do the bleep test every week", Category.STAFF_ALLEGATION),
        ("Meet at 10:30:45 sharp", Category.THREAT),
        ("So sad about Mrs Lane's mum, she's dead at 92 bless her", Category.THREAT),
        ("it'd be a shame if the prices went up again", Category.THREAT),
        ("Go to Turkey for half term, it's cheap", Category.HATE),
        ("Mr Dale forgot the certificates at the school assembly", Category.DEFAMATION),
        ("Where does the school's money go? We spent ours on expenses", Category.DEFAMATION),
        ("Please share this with 5 friends who want tickets", Category.SPAM),
        ("I want this to end well for Year 6, they deserve it", Category.SELF_HARM),
    ],
)
def test_near_misses_of_the_rules_1_10_patterns(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    assert RuleClassifier(policy).classify_text(text).scores[category] < 0.5


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "sometimes i go to the top of the car park and stand at the edge thinking about it",
            Category.SELF_HARM,
        ),
        (
            "sat on the edge of the bridge last night wondering how easy it would be",
            Category.SELF_HARM,
        ),
        ("how old is she?? send me her snap", Category.SEXUAL),
        ("he gives me a hard on every time", Category.SEXUAL),
        ("rosie-mae clarke from 3B has epilepsy so watch her in PE", Category.PERSONAL_DATA),
    ],
)
def test_rules_1_11_patterns(policy: SchoolPolicy, text: str, category: Category) -> None:
    """A high edge with the thought of going over; a child's name typed in lower case
    before a class, with a condition (rules 1.11.0; docs/categories.md)."""
    assert RuleClassifier(policy).classify_text(text).primary is category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("You've all worked so hard on this, well done Year 4!", Category.SEXUAL),
        ("Don't be so hard on yourself, it was a lovely effort", Category.SEXUAL),
        ("that's my niece at the front!! how old is she now, she's so grown up", Category.SEXUAL),
        ("how old is she now? proud nanna xx", Category.SEXUAL),
        ("stood at the edge of the pitch all match freezing", Category.SELF_HARM),
        (
            "We went to the top of the multi storey for the fireworks, lovely view",
            Category.SELF_HARM,
        ),
        ("The 3.15 rush on Larch Ave is murder", Category.PERSONAL_DATA),
        ("Pick up at 3:20 Mill Lane gate please", Category.PERSONAL_DATA),
        ("How is the Pupil Premium actually spent?", Category.PERSONAL_DATA),
        (
            "beautiful singing from year 2, my boy has asthma and still did it",
            Category.PERSONAL_DATA,
        ),
        ("well done from 6H for autism awareness week", Category.PERSONAL_DATA),
    ],
)
def test_near_misses_of_the_rules_1_11_patterns(
    policy: SchoolPolicy, text: str, category: Category
) -> None:
    assert RuleClassifier(policy).classify_text(text).scores[category] < 0.5


@pytest.mark.parametrize(
    ("text", "category", "flagged"),
    [
        ("i thought i was gonna die 🥶 but it was sick", Category.SELF_HARM, False),
        ("we were going to die of boredom in that queue", Category.SELF_HARM, False),
        ("im gonna die of embarrassment if mum posts that", Category.SELF_HARM, False),
        ("im going to die tonight and nobody will care", Category.SELF_HARM, True),
        ("i was going to end it last night", Category.SELF_HARM, True),
        (
            "Miss Evans won't let them have water bottles out in phonics",
            Category.STAFF_ALLEGATION,
            False,
        ),
        ("Miss Evans won't let him have water all afternoon", Category.STAFF_ALLEGATION, True),
        ("Pop into the office or ring us on 01632 960100", Category.PERSONAL_DATA, False),
        ("Lost our cat, ring us on 01632 960555", Category.PERSONAL_DATA, True),
        ("the head was filming kids outside the toilets", Category.STAFF_ALLEGATION, True),
        ("Mr Osei photographed the girls in the changing rooms", Category.STAFF_ALLEGATION, True),
        ("Mr Osei filmed the kids at the sports day finish line", Category.STAFF_ALLEGATION, False),
    ],
)
def test_rules_1_13_patterns_and_near_misses(
    policy: SchoolPolicy, text: str, category: Category, flagged: bool
) -> None:
    """A past "I thought I was gonna die" is fear, not a wish; a class rule about water
    bottles is not denial of needs; the office's "ring us on" is the school's number;
    filming children by the toilets is a boundary crossed (rules 1.13.0)."""
    assert (RuleClassifier(policy).classify_text(text).scores[category] >= 0.5) is flagged


@pytest.mark.parametrize(
    ("text", "staff_allegation", "sexual"),
    [
        # staff reported asking a child for secrecy: an allegation, not grooming written here
        ("mr osei threw a pen at sams head and then he said dont tell ur parents", True, False),
        ("Mr Osei grabbed his arm and told him not to tell his dad", True, False),
        (
            "The Year 6 teacher showed them a scary film and told them not to tell their parents",
            True,
            False,
        ),
        # nobody identifiable asked for it: still read as grooming
        ("hey lily, dont tell ur mum we talk x", False, True),
        ("hey lily saw u in mr smiths class, dont tell ur mum we talk x", False, True),
        # a surprise for the family is not a secret kept from it
        (
            "Mrs Hughes told them not to tell their parents about the Mother's Day cards",
            False,
            False,
        ),
        ("Mr Osei said not to tell your mum, it's for your mum's birthday", False, False),
        # rules 1.17.0: reported secrecy in other words is an allegation too
        (
            "Mrs Penrose drove my son home in her own car and told him not to tell anyone",
            True,
            False,
        ),
        (
            "Mr Halloran messages my daughter at night and told her to 'keep it between us'",
            True,
            False,
        ),
        (
            "Miss Tapper gives the Year 3 girls sweets and says it's their little secret",
            True,
            False,
        ),
        # a parent asking staff to keep something quiet is not that
        ("Mrs Penrose, can we keep it between us until I've spoken to his dad?", False, False),
    ],
)
def test_rules_1_14_secrecy_asked_by_staff(
    policy: SchoolPolicy, text: str, staff_allegation: bool, sexual: bool
) -> None:
    """Harm to a child by identifiable staff is a staff allegation (docs/categories.md): a
    member of staff reported asking a child to keep a secret from home is one, and the same
    words do not also count as the commenter's own grooming (rules 1.14.0; "told him not
    to tell anyone", "keep it between us", "it's their little secret" from 1.17.0)."""
    scores = RuleClassifier(policy).classify_text(text).scores
    assert (scores[Category.STAFF_ALLEGATION] >= 0.5) is staff_allegation
    assert (scores[Category.SEXUAL] >= 0.5) is sexual


@pytest.mark.parametrize(
    ("text", "sexual"),
    [
        # rules 1.15.0: a surprise for the family is not a secret kept from it
        ("Year 2 have been busy making Mother's Day cards, shh don't tell your mum! 🤫", False),
        ("don't tell your dad but we've made him something for Father's Day 🎁", False),
        ("Secret Santa sorted, don't tell your mum what you've got her x", False),
        # gifts to the child kept from home are still grooming
        ("i've got a present for you, don't tell your mum x", True),
        ("dont tell ur mum, ill buy you a new phone", True),
        ("I could drop a spare iPad round for her while you're at work, our little secret", True),
        # rules 1.16.0: said to a group, or about a surprise for staff, not to a child
        ("Shh, don't tell your teachers but we've planned a thank-you assembly for them", False),
        ("Keep it between us parents for now, we're organising a leaving present", False),
        ("Our little secret: the PTA is hiding chocolate eggs around the field", False),
        ("Can't wait to see you all at sports day, meet you at the gate at 9!", False),
        # said to one child: still grooming
        ("dont tell anyone, ill meet u at the gate", True),
        ("pick u up after school, dont tell everyone x", True),
        ("hey lily, dont tell ur teachers we talk x", True),
        # rules 1.18.0: everyday senses of words on the sexual word list
        ("Has anyone turned on the heating in Year 4 yet? It's freezing", False),
        ("We saw two blue tits and a robin for the Big Garden Birdwatch!", False),
        ("Girls need nude tights for the dance show, not black", False),
        ("Can't see the moon with the naked eye tonight, too cloudy", False),
        ("Please no naked flames at the bonfire night stall", False),
        ("Bend over and touch your toes is in the PE warm up apparently 😂", False),
        # the sexual senses still count
        ("she gets me turned on", True),
        ("nice tits on the mum at the back", True),
        ("she looks good naked", True),
        ("the nude photos of her are going round year 6", True),
        ("bend over for me baby", True),
    ],
)
def test_everyday_words_are_not_grooming_or_sexual(
    policy: SchoolPolicy, text: str, sexual: bool
) -> None:
    """Keeping a card or present from the family it is for (rules 1.15.0), a request made
    to a group or about a surprise for staff (1.16.0), and everyday senses of sexual words
    such as "naked flames" or "blue tits" (1.18.0, the Scunthorpe problem) are not sexual;
    a gift kept from home, a request to one child and the words' sexual senses still are."""
    scores = RuleClassifier(policy).classify_text(text).scores
    assert (scores[Category.SEXUAL] >= 0.5) is sexual


@pytest.mark.parametrize(
    "text",
    [
        "just between me and you, the Reception nativity was better than Year 1's 😂",
        "Just between us, I think the new uniform supplier is overpriced",
        "keep it between us but I heard the PTA raffle made £900",
        "Keep this between you and me, the quiz answers were on the back of the sheet 😂",
    ],
)
def test_rules_1_17_between_us_alone_is_not_grooming(policy: SchoolPolicy, text: str) -> None:
    """Adults say "just between us" to each other: on its own the phrase adds weight to
    the model's reading but never makes an alert (rules 1.17.0)."""
    result = RuleClassifier(policy).classify_text(text)
    assert result.scores[Category.SEXUAL] < 0.5
    assert "sx.between_us" in {e.rule_id for e in result.evidence}


def test_rules_1_17_between_us_with_other_grooming_words(policy: SchoolPolicy) -> None:
    """Said to a child, the phrase comes with other grooming words, which still flag."""
    text = "add me on snap and ill send u robux, just between us x"
    assert RuleClassifier(policy).classify_text(text).scores[Category.SEXUAL] >= 0.5


@pytest.mark.parametrize(
    ("text", "staff_allegation"),
    [
        # someone at home is doing the harm: a disclosure, not an allegation about staff
        ("mrs lyle can u help me my stepdad hits me when hes angry", False),
        ("sir pls help my mums boyfriend locks me in my room", False),
        # a relative who is only spoken to, or harmed, leaves the staff allegation
        ("mr bright said if i tell my mum about him grabbing my arm ill be in trouble", True),
        ("Mr Bright grabbed my brother by the neck in the lunch queue", True),
    ],
)
def test_rules_1_17_harm_by_someone_at_home(
    policy: SchoolPolicy, text: str, staff_allegation: bool
) -> None:
    """Staff named first, then a relative doing the harm: the harm is the relative's
    (HOUSEHOLD within 40 characters before it), so no staff rule applies (rules 1.17.0)."""
    scores = RuleClassifier(policy).classify_text(text).scores
    assert (scores[Category.STAFF_ALLEGATION] >= 0.5) is staff_allegation
