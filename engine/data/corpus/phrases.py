"""How people word each action (HumanML3D / KIT-ML style): several verb phrases per action,
some only for certain variants, some describing the body instead of the action, and a few
vague ones. Markup: `<verb>` is conjugated, `{slot}` filled (see captions.py): side, other
(the other side), poss (his/her/their), count, n (a number word), speed, angle, rot
(clockwise/counterclockwise), dir2 (forward/backward).

Phrases containing a held-out marker word (config.HELDOUT_PHRASINGS) are only ever used
for the held-out phrasing test set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.data.corpus.actions import Segment

Condition = Callable[[Segment], bool]


@dataclass(frozen=True)
class Phrase:
    template: str
    when: Condition = lambda s: True
    body: bool = False  # describes the body's movement rather than naming the action


def one(s: Segment) -> bool:
    return s.side in ("left", "right")


def both(s: Segment) -> bool:
    return s.side == "both"


def variant(*names: str) -> Condition:
    return lambda s: s.params.get("variant") in names


def reps_at_least(k: int) -> Condition:
    return lambda s: s.params.get("reps", 1) >= k


def reps_exactly(k: int) -> Condition:
    return lambda s: s.params.get("reps", 1) == k


def param(name: str, test: Callable) -> Condition:
    return lambda s: test(s.params.get(name))


def all_of(*conditions: Condition) -> Condition:
    return lambda s: all(c(s) for c in conditions)


P = Phrase
_SPEEDING = param("speed", lambda v: v > 0)
_IN_PLACE = param("speed", lambda v: v == 0)
_JOG = param("speed", lambda v: 0 < v < 3.0)
_SPRINT = param("speed", lambda v: v > 3.5)
_DEEP = param("depth", lambda v: v > 0.7)
_SLIGHT = param("depth", lambda v: v < 0.45)

PHRASES: dict[str, tuple[Phrase, ...]] = {
    "walk_forward": (
        P("<walk> forward {speed}"),
        P("<walk> straight ahead {speed}"),
        P("<walk> {speed} in a straight line"),
        P("<take> a few steps forward"),
        P("<walk> forward a few steps"),
        P("<move> forward {speed}"),
        P("<walk> {speed}"),
        P("<walk> across the room"),
        P("<step> forward with alternating feet", body=True),
        P("<stroll> forward"),
        P("<stroll> along {speed}"),
    ),
    "walk_backward": (
        P("<walk> backward {speed}"),
        P("<walk> backwards"),
        P("<step> backwards {speed}"),
        P("<move> backward"),
        P("<take> a few steps back"),
        P("<back> up"),
        P("<walk> in reverse"),
        P("<stroll> backwards"),
    ),
    "walk_sideways": (
        P("<walk> sideways to the {side}"),
        P("<step> to the {side} {speed}"),
        P("<sidestep> to the {side}"),
        P("<shuffle> sideways to {poss} {side}"),
        P("<move> sideways"),
        P("<walk> sideways"),
        P("<take> side steps to the {side}"),
        P("<stroll> sideways to the {side}"),
    ),
    "walk_in_circle": (
        P("<walk> in a circle"),
        P("<walk> in a circle {rot}"),
        P("<walk> around in a circle"),
        P("<walk> in a circle to the {side}"),
        P("<circle> around"),
        P("<walk> {rot} in a circle"),
        P("<walk> in a big circle", param("radius", lambda r: r > 1.5)),
        P("<walk> in a small circle", param("radius", lambda r: r < 1.0)),
        P("<stroll> around in a circle"),
    ),
    "run": (
        P("<run> forward {speed}", _SPEEDING),
        P("<jog> forward", _JOG),
        P("<run>", _SPEEDING),
        P("<sprint> forward", _SPRINT),
        P("<run> {speed} in a straight line", _SPEEDING),
        P("<jog> {speed}", _JOG),
        P("<run> ahead", _SPEEDING),
        P("<dash> forward", _SPEEDING),
        P("<jog> in place", _IN_PLACE),
        P("<run> in place", _IN_PLACE),
        P("<jog> on the spot", _IN_PLACE),
        P("<run> on the spot", _IN_PLACE),
        P("<lift> {poss} knees up and down quickly", _IN_PLACE, body=True),
        P("<dash> in place", _IN_PLACE),
    ),
    "jump_in_place": (
        P("<jump> up and down {count}"),
        P("<jump> in place {count}"),
        P("<jump> straight up {count}"),
        P("<jump> {count}"),
        P("<do> a small jump", all_of(reps_exactly(1), param("height", lambda h: h < 0.25))),
        P("<jump> high", param("height", lambda h: h > 0.32)),
        P("<bend> {poss} knees and <jump> up {count}", body=True),
        P("<leap> up into the air {count}"),
    ),
    "jump_forward": (
        P("<jump> forward {count}"),
        P("<jump> forward with both feet {count}"),
        P("<do> a long jump", reps_exactly(1)),
        P("<hop> forward {count}"),
        P("<jump> ahead {count}"),
        P("<swing> {poss} arms and <jump> forward {count}", body=True),
        P("<leap> forward {count}"),
    ),
    "hop_on_one_leg": (
        P("<hop> on {poss} {side} leg {count}"),
        P("<hop> on one foot {count}"),
        P("<hop> on the {side} foot"),
        P("<jump> on one leg {count}"),
        P("<hop> forward on {poss} {side} leg", param("forward", lambda f: f > 0)),
        P("<hop> on one leg", param("forward", lambda f: f == 0)),
        P("<balance> on {poss} {side} leg and <hop> {count}", body=True),
        P("<leap> on one foot {count}"),
    ),
    "turn_left": (
        P("<turn> left"),
        P("<turn> to the {side}"),
        P("<turn> {angle} to the {side}"),
        P("<turn> around to the {side}", param("nominal", lambda a: a == 180)),
        P("<turn> around", param("nominal", lambda a: a == 180)),
        P("<make> a quarter turn to the {side}", param("nominal", lambda a: a == 90)),
        P("<turn> slightly to the {side}", param("nominal", lambda a: a == 45)),
        P("<turn> {poss} body to the {side}", body=True),
        P("<turn> {angle} {rot}"),
        P("<pivot> to the {side}"),
        P("<pivot> {angle} to the {side}"),
    ),
    "spin": (
        P("<spin> around {count}"),
        P("<spin> in a full circle", param("turns", lambda t: t == 1)),
        P("<spin> {rot}"),
        P("<spin> to the {side}"),
        P("<turn> around in a full circle", param("turns", lambda t: t == 1)),
        P("<turn> 360 degrees", param("turns", lambda t: t == 1)),
        P("<turn> around {count}", param("turns", lambda t: t == 2)),
        P("<spin> on one foot"),
        P("<rotate> all the way around", body=True),
        P("<twirl> around"),
        P("<twirl> {rot}"),
    ),
    "crawl": (
        P("<crawl> forward"),
        P("<crawl> on {poss} hands and knees"),
        P("<crawl> forward on all fours"),
        P("<crawl> {speed}"),
        P("<get> down on all fours and <crawl>", param("start_down", lambda d: not d)),
        P("<get> down and <crawl> forward", param("start_down", lambda d: not d)),
        P("<crawl> forward and <get> back up", param("end_down", lambda d: not d)),
        P("<move> forward on {poss} hands and knees", body=True),
        P("<creep> forward on hands and knees"),
    ),
    "wave": (
        P("<wave> with {poss} {side} hand", one),
        P("<wave> {poss} {side} hand", one),
        P("<wave> hello with {poss} {side} hand", one),
        P("<raise> {poss} {side} hand and <wave>", one),
        P("<wave> {poss} {side} arm", one),
        P("<wave>"),
        P("<wave> at someone"),
        P("<wave> goodbye"),
        P("<wave> both hands", both),
        P("<wave> with both arms", both),
        P("<wave> {poss} arms above {poss} head", all_of(both, param("high", bool))),
        P("<wave> both arms in the air", both),
        P("<raise> {poss} {side} hand and <move> it from side to side", one, body=True),
    ),
    "raise_arms": (
        P("<raise> both arms above {poss} head", all_of(both, variant("up", "up_side"))),
        P("<raise> {poss} arms up", both),
        P("<lift> {poss} arms over {poss} head {count}", all_of(both, variant("up", "up_side"))),
        P("<put> {poss} hands up", all_of(both, variant("up", "up_side"))),
        P("<reach> up with both arms", all_of(both, variant("up", "up_side"))),
        P("<raise> {poss} arms {count}", both),
        P("<raise> {poss} arms out to the sides", all_of(both, variant("side", "up_side"))),
        P("<lift> {poss} arms sideways to shoulder height", all_of(both, variant("side"))),
        P("<raise> {poss} arms straight out in front", all_of(both, variant("front"))),
        P("<hold> {poss} arms out in front", all_of(both, variant("front"))),
        P("<raise> {poss} {side} arm {count}", one),
        P("<lift> {poss} {side} hand up", all_of(one, variant("up", "up_side"))),
        P("<put> {poss} {side} hand up", all_of(one, variant("up", "up_side"))),
        P("<raise> {poss} {side} arm out to the side", all_of(one, variant("side"))),
    ),
    "clap": (
        P("<clap> {poss} hands {count}"),
        P("<clap> {count}"),
        P("<clap>"),
        P("<clap> {poss} hands together"),
        P("<clap> above {poss} head", param("overhead", bool)),
        P("<bring> {poss} hands together {count}", body=True),
        P("<applaud>"),
        P("<applaud> {count}"),
    ),
    "punch": (
        P("<punch> with {poss} {side} fist {count}", one),
        P("<punch> forward with {poss} {side} hand", one),
        P("<throw> a punch with {poss} {side} arm", all_of(one, reps_exactly(1))),
        P("<punch> {count}"),
        P("<punch> forward {count}"),
        P("<punch> with both fists", both),
        P("<throw> punches with both hands", both),
        P("<punch> left and right", both),
        P("<box> with both fists", both),
        P("<throw> alternating punches", both),
        P("<extend> {poss} {side} arm forward quickly with a closed fist", one, body=True),
        P("<jab> with {poss} {side} fist", one),
        P("<jab> forward {count}"),
    ),
    "throw": (
        P("<throw> something with {poss} {side} hand"),
        P("<throw> a ball with {poss} {side} arm"),
        P("<throw> an object"),
        P("<throw> something"),
        P("<throw> something overhand", variant("overhand")),
        P("<throw> a ball underhand", variant("underhand")),
        P("<pitch> a ball", variant("overhand")),
        P("<step> forward and <throw> something", param("step", bool)),
        P("<swing> {poss} {side} arm forward as if throwing", body=True),
        P("<toss> something"),
        P("<toss> a ball with {poss} {side} hand"),
    ),
    "point": (
        P("<point> forward with {poss} {side} hand", param("direction", lambda d: d == "forward")),
        P("<point> at something"),
        P("<point> with {poss} {side} arm"),
        P("<point> to the {side}", param("direction", lambda d: d == "side")),
        P("<point> at something in front", param("direction", lambda d: d == "forward")),
        P("<stretch> out {poss} {side} arm and <point>", body=True),
    ),
    "drink": (
        P("<drink> from a cup with {poss} {side} hand"),
        P("<take> a drink"),
        P("<drink> something"),
        P("<drink> from a bottle"),
        P("<drink> {count}"),
        P("<raise> a cup to {poss} mouth and <drink>"),
        P("<bring> {poss} {side} hand to {poss} mouth", body=True),
        P("<sip> from a cup"),
        P("<take> a sip"),
    ),
    "arm_circles": (
        P("<make> circles with {poss} arms", both),
        P("<rotate> {poss} arms in circles", both),
        P("<do> arm circles"),
        P("<circle> {poss} arms {dir2}", both),
        P("<swing> {poss} arms in big circles", all_of(both, param("big", bool))),
        P(
            "<make> small circles with {poss} arms out to the sides",
            all_of(both, param("big", lambda b: not b)),
        ),
        P("<make> circles with {poss} {side} arm", one),
        P("<rotate> {poss} {side} arm {dir2}", one),
        P("<move> {poss} arms around in circles", body=True),
    ),
    "wipe": (
        P("<wipe> a table with {poss} {side} hand", variant("table")),
        P("<wipe> the table", variant("table")),
        P("<clean> a table in circles", variant("table")),
        P("<make> circular motions on a table", variant("table")),
        P("<wipe> a window", variant("window")),
        P("<clean> a window with {poss} {side} hand", variant("window")),
        P("<wipe> something in a circular motion"),
        P("<move> {poss} {side} hand in circles", body=True),
        P("<scrub> the table", variant("table")),
        P("<scrub> a window", variant("window")),
    ),
    "kick": (
        P("<kick> with {poss} {side} leg {count}"),
        P("<kick> {poss} {side} foot forward"),
        P("<kick> forward with the {side} foot {count}"),
        P("<do> a front kick with {poss} {side} leg", all_of(variant("front"), reps_exactly(1))),
        P("<kick> a ball with {poss} {side} foot", variant("ball")),
        P("<kick> something"),
        P("<kick> {count}"),
        P("<lift> {poss} {side} leg and <kick> it out", body=True),
    ),
    "stomp": (
        P("<stomp> {poss} {side} foot {count}"),
        P("<stomp> on the ground {count}"),
        P("<stamp> {poss} {side} foot"),
        P("<stomp> with {poss} {side} foot"),
        P("<lift> {poss} {side} foot and <slam> it down {count}", body=True),
    ),
    "squat": (
        P("<squat> {count}"),
        P("<squat> down"),
        P("<do> squats", reps_at_least(2)),
        P("<do> a squat", reps_exactly(1)),
        P("<squat> down and <stand> back up {count}"),
        P("<crouch> down and <stand> back up {count}"),
        P("<do> {n} squats", reps_at_least(2)),
        P("<squat> with {poss} arms out in front", variant("forward")),
        P("<squat> with {poss} hands on {poss} hips", variant("hips")),
        P("<bend> {poss} knees and <lower> {poss} body {count}", body=True),
    ),
    "lunge": (
        P("<lunge> forward with {poss} {side} leg", one),
        P("<do> a lunge with the {side} leg forward", all_of(one, reps_exactly(1))),
        P("<step> forward into a lunge"),
        P("<lunge> forward {count}"),
        P("<do> alternating lunges", both),
        P("<lunge> forward with each leg", both),
        P("<do> lunges", reps_at_least(2)),
        P("<step> forward with {poss} {side} foot and <lower> {poss} body", one, body=True),
    ),
    "sit_down": (
        P("<sit> down"),
        P("<sit> down on a chair"),
        P("<take> a seat"),
        P("<sit> down on something"),
        P("<bend> {poss} knees and <sit> down", body=True),
        P("<lower> {poss} hips as if sitting on a chair", body=True),
    ),
    "stand_up": (
        P("<stand> up"),
        P("<get> up from a chair"),
        P("<stand> up from a seated position"),
        P("<rise> from {poss} seat"),
        P("<get> up"),
        P("<lean> forward and <push> up to stand", body=True),
    ),
    "kneel": (
        P("<kneel> down on {poss} {side} knee", one),
        P("<get> down on one knee", one),
        P("<kneel> on one knee", one),
        P("<go> down on {poss} {side} knee", one),
        P("<kneel> on both knees", both),
        P("<get> down on {poss} knees", both),
        P("<kneel> down"),
        P("<kneel> down and <get> back up", param("stay", lambda s: not s)),
        P("<kneel> and then <stand> back up", param("stay", lambda s: not s)),
        P("<lower> {poss} body until {poss} knee is on the ground", one, body=True),
    ),
    "bow": (
        P("<bow> {count}"),
        P("<bow> down"),
        P("<take> a bow", reps_exactly(1)),
        P("<bow> deeply", _DEEP),
        P("<bow> slightly", _SLIGHT),
        P("<bow> politely"),
        P("<bow> with a hand on {poss} stomach", param("hand_on_belly", bool)),
        P("<bend> forward at the waist {count}", body=True),
    ),
    "jumping_jacks": (
        P("<do> jumping jacks"),
        P("<do> {n} jumping jacks"),
        P("<perform> jumping jacks"),
        P("<do> jumping jacks {speed}"),
        P("<do> star jumps"),
        P("<jump> while spreading {poss} arms and legs", body=True),
    ),
    "balance_on_one_leg": (
        P("<balance> on {poss} {side} leg"),
        P("<stand> on one leg"),
        P("<stand> on {poss} {side} foot"),
        P("<balance> on one foot with {poss} arms out"),
        P("<lift> {poss} {other} knee and <balance>", variant("knee")),
        P("<lift> {poss} {other} leg and <hold> it", body=True),
        P("<lift> {poss} {other} knee up to {poss} chest", variant("knee"), body=True),
        P("<hold> {poss} {other} leg out to the side", variant("side"), body=True),
        P("<lift> {poss} {other} foot up behind", variant("back"), body=True),
    ),
    "stretch": (
        P("<stretch> {poss} arms above {poss} head", variant("overhead")),
        P("<stretch>"),
        P("<reach> up and <stretch> to both sides", variant("overhead")),
        P("<lean> to the {side} to stretch", variant("side_bend")),
        P("<stretch> to the {side} side", variant("side_bend")),
        P("<bend> sideways to the {side}", variant("side_bend"), body=True),
        P("<touch> {poss} toes", variant("toe_touch")),
        P("<bend> over to touch {poss} toes", variant("toe_touch")),
        P("<reach> down to {poss} toes", variant("toe_touch"), body=True),
        P("<stretch> {poss} {side} arm across {poss} chest", variant("arm_across")),
        P("<pull> {poss} {side} arm across {poss} body", variant("arm_across"), body=True),
        P("<stretch> {poss} {side} arm", variant("arm_across")),
        P("<stretch> {poss} {side} leg", variant("quad")),
        P("<pull> {poss} {side} foot up behind", variant("quad"), body=True),
        P("<do> some stretching"),
    ),
    "pick_up": (
        P("<pick> something up from the ground"),
        P("<pick> up an object with {poss} {side} hand", one),
        P("<bend> down and <pick> something up"),
        P("<reach> down and <pick> up something"),
        P("<pick> up a box with both hands", both),
        P("<lift> something off the floor"),
        P("<squat> down and <pick> something up", variant("squat")),
        P("<bend> over and <pick> something up", variant("stoop")),
        P("<reach> for the ground with {poss} {side} hand", one, body=True),
    ),
    "dance": (
        P("<dance>"),
        P("<dance> happily"),
        P("<dance> energetically", param("energy", lambda e: e > 1.0)),
        P("<do> a little dance"),
        P("<dance> to music"),
        P("<dance> to the music"),
        P("<dance> around"),
        P("<step> from side to side to the beat", variant("step_touch")),
        P("<do> the twist", variant("twist")),
        P("<twist> {poss} hips while dancing", variant("twist"), body=True),
        P("<dance> with {poss} arms in the air", variant("arms_up")),
        P("<sway> {poss} hips from side to side", variant("sway"), body=True),
        P("<sway> to the rhythm", variant("sway")),
        P("<dance> and <turn> around", param("turn", bool)),
        P("<move> {poss} body to the rhythm", body=True),
        P("<boogie>"),
        P("<boogie> to the music"),
    ),
    "golf_swing": (
        P("<swing> a golf club"),
        P("<play> golf"),
        P("<practice> {poss} golf swing"),
        P("<do> a golf swing"),
        P("<take> a swing with a golf club"),
        P("<hit> a golf ball"),
        P("<swing> {poss} arms like hitting a golf ball", body=True),
    ),
    "tennis_swing": (
        P("<hit> a forehand", variant("forehand")),
        P("<swing> a tennis racket"),
        P("<play> tennis"),
        P("<hit> a tennis ball with {poss} {side} hand"),
        P("<hit> a backhand", variant("backhand")),
        P("<swing> a backhand with {poss} {side} hand", variant("backhand")),
        P("<serve> a tennis ball", variant("serve")),
        P("<do> a tennis serve", variant("serve")),
        P("<swing> {poss} {side} arm like hitting a tennis ball", body=True),
        P("<toss> a ball up and <serve>", variant("serve")),
    ),
    "stand_still": (
        P("<stand> still"),
        P("<stand> in place"),
        P("<stand> there"),
        P("<stand> and <do> nothing"),
        P("<stay> still"),
        P("<stand> with {poss} arms crossed", variant("arms_crossed")),
        P("<stand> with {poss} hands on {poss} hips", variant("hands_on_hips")),
        P("<look> around", variant("look_around")),
        P("<stand> and <look> around", variant("look_around")),
        P("<shift> {poss} weight from foot to foot", variant("plain"), body=True),
    ),
}
PHRASES["turn_right"] = tuple(
    Phrase(p.template.replace("<turn> left", "<turn> right"), p.when, p.body)
    for p in PHRASES["turn_left"]
)

# vague phrasings: what people write when they only half describe a clip, by category
VAGUE = {
    "gesture": (
        "<move> {poss} arms",
        "<move> {poss} arms around",
        "<do> something with {poss} hands",
    ),
    "locomotion": ("<move> around", "<walk> around", "<move> across the room"),
    "exercise": ("<do> some exercise", "<exercise>", "<work> out", "<move> {poss} body"),
    "body": ("<move> {poss} body", "<do> something", "<move> around a bit"),
}
EXERCISES = frozenset(
    (
        "squat",
        "lunge",
        "jumping_jacks",
        "stretch",
        "arm_circles",
        "balance_on_one_leg",
        "kick",
        "bow",
    )
)
