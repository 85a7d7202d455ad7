"""The informational-interview question bank, from the seeds.

Seed 003's questions for an informational interview and its three networks (strategic: trends
and looking ahead; operational: getting the job done, other departments; developmental: growth, a
sounding board); seed 002's focus of inquiry ("I'm working on a project about X and I'd really like
to speak with you about your experiences with X") and its snowball ("who else should I talk to?");
seed 001's alliances (advice and assistance on a current project, reciprocate) and connections
(get work noticed, decision-makers, two above, two at your level, two below); seed 000's allies
(two-way, offer help first, stay in touch when you don't need anything).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Bond, Level, Network

STRAT, OPER, DEV = Network.STRATEGIC, Network.OPERATIONAL, Network.DEVELOPMENTAL
ALL_NETWORKS = STRAT | OPER | DEV
ALL_LEVELS = frozenset(Level)
ALL_BONDS = frozenset(Bond)
ABOVE, PEER, BELOW = (
    frozenset({Level.ABOVE}),
    frozenset({Level.PEER}),
    frozenset({Level.BELOW}),
)
ALLIANCE, CONNECTION = frozenset({Bond.ALLIANCE}), frozenset({Bond.CONNECTION})

# Kinds keep a set of three varied: one question about the person's journey, one about their
# work, one that offers help is a better conversation than three about trends.
KINDS = {
    "journey": "their professional journey",
    "work": "what they are working on",
    "inquiry": "your focus of inquiry",
    "trends": "trends and looking ahead",
    "delivery": "getting the job done",
    "growth": "growth and advice",
    "alliance": "advice and help on your work",
    "visibility": "getting work noticed",
    "reciprocity": "what you can offer in return",
    "snowball": "who else to talk to",
}


@dataclass(frozen=True)
class BankQuestion:
    """One question in the bank: who it suits, and its wording with and without a focus."""

    id: str
    kind: str
    plain: str
    focused: str  # a template with ``{focus}``
    levels: frozenset[Level] = ALL_LEVELS
    networks: Network = ALL_NETWORKS
    bonds: frozenset[Bond] = ALL_BONDS
    seed: str = "003"
    opener: bool = False  # seed 003's own questions: the way into a first conversation

    def text(self, focus: str | None) -> str:
        return self.focused.format(focus=focus) if focus else self.plain


BANK: tuple[BankQuestion, ...] = (
    # -- seed 003: the informational interview's own questions --------------------------------
    BankQuestion(
        "excited-projects",
        "work",
        "What projects are you working on right now that you are excited about?",
        "What are you working on right now that you're excited about, and does any of it "
        "touch {focus}?",
        opener=True,
    ),
    BankQuestion(
        "getting-started",
        "journey",
        "How did you get started in this department?",
        "How did you get started in your department, and when did {focus} first come onto "
        "your radar?",
        opener=True,
    ),
    BankQuestion(
        "professional-journey",
        "journey",
        "How would you describe your professional journey?",
        "How would you describe your professional journey, and where has {focus} shown up "
        "along the way?",
        networks=STRAT | DEV,
        opener=True,
    ),
    BankQuestion(
        "department-to-learn",
        "snowball",
        "Is there a department you think I should learn more about, and who there might talk "
        "with me about their work?",
        "Which department deals with {focus} in ways I might not see, and who there might talk "
        "with me about their work?",
        networks=OPER,
    ),
    BankQuestion(
        "below-enjoy-most",
        "journey",
        "Which part of your work do you enjoy most, and how did you find your way into it?",
        "Which part of your work do you enjoy most, and how close does it sit to {focus}?",
        levels=BELOW,
        networks=DEV | OPER,
    ),
    BankQuestion(
        "peer-compare-notes",
        "work",
        "What are you finding hardest in your work this quarter? I'd like to compare notes.",
        "What's been hardest about {focus} for you lately? I'd like to compare notes.",
        levels=PEER,
    ),
    # -- seed 002: the focus of inquiry and the snowball ---------------------------------------
    BankQuestion(
        "experiences-with-focus",
        "inquiry",
        "Which challenge does your team care most about right now, and what would solving it "
        "change?",
        "I'm working on a project about {focus} and I'd really like to hear about your "
        "experiences with it. What has it looked like from where you sit?",
        seed="002",
    ),
    BankQuestion(
        "focus-from-your-side",
        "inquiry",
        "From where you sit, which problem in our organisation is most worth solving?",
        "How does {focus} look from your part of the organisation, and what do people tend to "
        "miss about it?",
        networks=STRAT | OPER,
        seed="002",
    ),
    BankQuestion(
        "focus-contribute",
        "inquiry",
        "Where do you think someone like me could contribute most to the problems you care about?",
        "Where do you think someone like me could contribute to {focus} in the next year?",
        levels=ABOVE | PEER,
        networks=STRAT | DEV,
        seed="002",
    ),
    BankQuestion(
        "focus-earlier-career",
        "inquiry",
        "What do you see in our work that people who've been here longer might be missing?",
        "What do you notice about {focus} that people who've been here longer might be missing?",
        levels=BELOW,
        networks=STRAT | DEV,
        seed="002",
    ),
    BankQuestion(
        "who-else",
        "snowball",
        "Who else should I talk to, and would you be comfortable introducing me?",
        "Who else is thinking about {focus} that I should talk to, and would you be comfortable "
        "introducing me?",
        seed="002",
    ),
    BankQuestion(
        "who-outside",
        "snowball",
        "Is there someone outside the company, in a professional association or a past "
        "workplace, whose perspective you'd recommend I hear?",
        "Is there someone outside the company, in a professional association or a past "
        "workplace, who knows {focus} well and would be worth my time?",
        levels=ABOVE | PEER,
        networks=STRAT | DEV,
        seed="002",
    ),
    # -- seed 003: strategic network, trends and looking ahead ----------------------------------
    BankQuestion(
        "trends-watching",
        "trends",
        "Which trends in your field are you watching most closely right now?",
        "Which trends are changing how people approach {focus}, and which are you watching "
        "most closely?",
        networks=STRAT,
    ),
    BankQuestion(
        "looking-ahead",
        "trends",
        "Looking ahead a year or two, what do you expect to change most for your team?",
        "Looking ahead a year or two, how do you expect {focus} to change, and what should we "
        "start preparing for now?",
        levels=ABOVE | PEER,
        networks=STRAT,
    ),
    BankQuestion(
        "leaders-priorities",
        "trends",
        "Which priorities do you hear about most from the leaders you work with?",
        "How much attention does {focus} get from the leaders you work with, and what would "
        "make them care more?",
        levels=ABOVE,
        networks=STRAT,
        bonds=CONNECTION,
    ),
    BankQuestion(
        "staying-current",
        "trends",
        "Where do you go to stay on top of what's changing in your field: people, communities, "
        "reading?",
        "Where do you go to keep up with {focus}: people, communities, things you read?",
        networks=STRAT | DEV,
    ),
    BankQuestion(
        "landscape-since",
        "trends",
        "How has the organisation changed since you started, and what has that taught you?",
        "How has thinking about {focus} changed here since you started, and what did that "
        "teach you?",
        levels=ABOVE,
        networks=STRAT,
    ),
    BankQuestion(
        "one-bet",
        "trends",
        "If you had to bet on one idea that will matter more in our field next year, what "
        "would it be?",
        "If you had to bet on one idea that will matter more for {focus} next year, what would "
        "it be?",
        levels=ABOVE | PEER,
        networks=STRAT,
    ),
    BankQuestion(
        "below-new-ideas",
        "trends",
        "Which new tools or ideas are people earlier in their careers excited about that I "
        "might not have heard of?",
        "Which new tools or ideas around {focus} are people earlier in their careers excited "
        "about?",
        levels=BELOW,
        networks=STRAT,
    ),
    # -- seed 003: operational network, getting the job done, other departments -----------------
    BankQuestion(
        "how-things-get-done",
        "delivery",
        "What does it take to get something done in your part of the organisation?",
        "When {focus} comes up in your team, who does what, and where does it tend to get stuck?",
        networks=OPER,
    ),
    BankQuestion(
        "where-we-meet",
        "delivery",
        "Where does your team's work meet mine, and how could the hand-offs be smoother?",
        "Where does your team's work meet mine on {focus}, and how could the hand-offs between "
        "us be smoother?",
        levels=PEER | BELOW,
        networks=OPER,
        bonds=ALLIANCE,
    ),
    BankQuestion(
        "rely-on",
        "delivery",
        "Who outside your own team do you rely on to get your work done?",
        "Who outside your team do you rely on when you work on {focus}?",
        networks=OPER,
    ),
    BankQuestion(
        "typical-week",
        "delivery",
        "What does a typical week look like for you, and what takes more time than people realise?",
        "What does a typical week look like for you, and how much of it touches {focus}?",
        networks=OPER | DEV,
    ),
    BankQuestion(
        "in-the-way",
        "delivery",
        "What gets in the way of your work that someone in my position could help remove?",
        "What gets in the way when you work on {focus}, and could I help remove any of it?",
        levels=PEER | BELOW,
        networks=OPER,
    ),
    BankQuestion(
        "process-keep-scrap",
        "delivery",
        "Which process or tool makes your work easier, and which would you scrap tomorrow?",
        "Which process or tool helps most with {focus}, and which one gets in the way?",
        levels=PEER | BELOW,
        networks=OPER,
    ),
    BankQuestion(
        "success-looks-like",
        "delivery",
        "How does your team decide what success looks like this quarter?",
        "How does your team measure success on {focus}, and who decides?",
        levels=ABOVE | PEER,
        networks=OPER | STRAT,
    ),
    BankQuestion(
        "below-day-to-day",
        "delivery",
        "What do you see day to day that rarely makes it to people at my level?",
        "What do you see about {focus} day to day that rarely reaches people at my level?",
        levels=BELOW,
        networks=OPER | STRAT,
    ),
    # -- seed 003: developmental network, growth and a sounding board ---------------------------
    BankQuestion(
        "best-advice",
        "growth",
        "What's the best career advice you were ever given?",
        "What's the best advice you've had that would help someone getting deeper into {focus}?",
        levels=ABOVE | PEER,
        networks=DEV,
    ),
    BankQuestion(
        "skills-that-mattered",
        "growth",
        "Which skills made the biggest difference in your career, and how did you build them?",
        "Which skills matter most for doing {focus} well, and how did you build yours?",
        levels=ABOVE,
        networks=DEV,
    ),
    BankQuestion(
        "sounding-board",
        "growth",
        "When things got tough at work, who was your sounding board, and what made them good "
        "at it?",
        "When work on {focus} got difficult, who was your sounding board, and what made them "
        "good at it?",
        networks=DEV,
    ),
    BankQuestion(
        "wish-known",
        "growth",
        "What do you wish you had known when you were at my stage?",
        "What do you wish you had known about {focus} earlier in your career?",
        levels=ABOVE | PEER,
        networks=DEV,
    ),
    BankQuestion(
        "learning-now",
        "growth",
        "What are you trying to learn or get better at right now?",
        "What are you trying to learn right now, and is any of it related to {focus}?",
        networks=DEV,
    ),
    BankQuestion(
        "where-career-heads",
        "growth",
        "Where would you like your career to head, and what would help you get there?",
        "Where would you like your career to head, and could {focus} be part of it?",
        levels=BELOW | PEER,
        networks=DEV,
    ),
    BankQuestion(
        "more-impact",
        "growth",
        "What's one thing I could do differently to have more impact?",
        "From what you've seen, what would make my work on {focus} more useful?",
        levels=ABOVE | PEER,
        networks=DEV,
    ),
    BankQuestion(
        "setback",
        "growth",
        "What's a setback that taught you something you still use?",
        "What's a setback with {focus}, or something like it, that taught you something you "
        "still use?",
        levels=ABOVE,
        networks=DEV,
    ),
    BankQuestion(
        "who-helped-you",
        "growth",
        "Who has helped you most in your career so far, and how?",
        "Who has helped you most as you've worked on {focus}, and how?",
        levels=BELOW | PEER,
        networks=DEV,
    ),
    # -- seed 001: alliances, advice and assistance on current work -----------------------------
    BankQuestion(
        "untapped-expertise",
        "alliance",
        "What expertise do you have that people around here don't ask you about often enough?",
        "What do you know about {focus} that people around here don't ask you about often enough?",
        networks=OPER | DEV,
        bonds=ALLIANCE,
        seed="001",
    ),
    BankQuestion(
        "fall-short",
        "alliance",
        "If I walked you through what I'm working on now, where would you expect it to fall short?",
        "If I walked you through my project on {focus}, where would you expect it to fall short?",
        networks=OPER,
        bonds=ALLIANCE,
        seed="001",
    ),
    BankQuestion(
        "knowledge-support",
        "alliance",
        "How could your team's knowledge support what my team is delivering this quarter?",
        "How could your team's knowledge support my work on {focus} this quarter?",
        levels=ABOVE | PEER,
        networks=OPER | STRAT,
        bonds=ALLIANCE,
        seed="001",
    ),
    BankQuestion(
        "history-here",
        "alliance",
        "What history should I understand before I take on something new here?",
        "What should I understand about how {focus} has been tried here before?",
        levels=ABOVE | PEER,
        networks=STRAT | OPER,
        seed="001",
    ),
    BankQuestion(
        "whose-support",
        "alliance",
        "Whose support does a new idea need around here, and how do people usually earn it?",
        "Whose support would an idea about {focus} need around here, and how would you go "
        "about earning it?",
        levels=ABOVE | PEER,
        networks=STRAT | OPER,
        seed="000",
    ),
    BankQuestion(
        "people-in-the-room",
        "alliance",
        "When you present to leaders here, how do you prepare for the people in the room?",
        "When you present ideas about {focus} to leaders here, how do you prepare for the "
        "people in the room?",
        levels=ABOVE | PEER,
        networks=OPER | DEV,
        seed="000",
    ),
    BankQuestion(
        "below-want-in",
        "alliance",
        "Which part of my team's work would you like to be more involved in?",
        "Would you like to be more involved in the work on {focus}, and which part?",
        levels=BELOW,
        networks=OPER | DEV,
        bonds=ALLIANCE,
        seed="001",
    ),
    # -- seed 001: connections, getting work noticed and in front of decision-makers ------------
    BankQuestion(
        "gets-noticed",
        "visibility",
        "How does good work get noticed here, and what have you seen people do that works?",
        "How would good work on {focus} best get noticed here, and by whom?",
        levels=ABOVE | PEER,
        networks=STRAT,
        bonds=CONNECTION,
        seed="001",
    ),
    BankQuestion(
        "decision-makers",
        "visibility",
        "Who makes the decisions that shape your area, and how do they like to hear new ideas?",
        "Who makes the decisions about {focus}, and how do they like to hear new ideas?",
        levels=ABOVE | PEER,
        networks=STRAT,
        bonds=CONNECTION,
        seed="001",
    ),
    BankQuestion(
        "stalled-proposal",
        "visibility",
        "When a good proposal stalls, what usually unblocks it?",
        "If a proposal on {focus} stalled, what would usually unblock it?",
        levels=ABOVE,
        networks=OPER | STRAT,
        bonds=CONNECTION,
        seed="001",
    ),
    BankQuestion(
        "informal-leaders",
        "visibility",
        "Who do people on your team listen to, whatever their title?",
        "Who do people listen to about {focus}, whatever their title?",
        levels=PEER | BELOW,
        networks=STRAT | OPER,
        seed="001",
    ),
    BankQuestion(
        "esteemed-teams",
        "visibility",
        "Which teams here are held in high esteem, and what do they do differently?",
        "Which teams here are known for doing {focus} well, and what do they do differently?",
        networks=STRAT,
        bonds=CONNECTION,
        seed="001",
    ),
    BankQuestion(
        "think-of-me",
        "visibility",
        "What kind of work would you want someone like me to bring to your attention?",
        "If something about {focus} came up on your side, what would make you think of me for it?",
        levels=ABOVE,
        networks=STRAT | DEV,
        bonds=CONNECTION,
        seed="002",
    ),
    # -- seed 000: allies are two-way; offer help first and stay in touch -----------------------
    BankQuestion(
        "help-with-now",
        "reciprocity",
        "What's one thing on your plate right now that I could help with?",
        "I've been learning a lot about {focus}: is there anything on your plate where that "
        "could help you?",
        seed="000",
    ),
    BankQuestion(
        "useful-to-you",
        "reciprocity",
        "What kind of information would be useful to you that I might come across in my work?",
        "What would be useful for you to hear from me as I keep learning about {focus}?",
        networks=STRAT | OPER,
        seed="001",
    ),
    BankQuestion(
        "stay-in-touch",
        "reciprocity",
        "What's the best way for us to stay in touch, even when neither of us needs anything?",
        "Could I share what I learn about {focus} as I go? What's the best way for us to stay "
        "in touch?",
        seed="000",
    ),
    BankQuestion(
        "intro-for-you",
        "reciprocity",
        "Is there someone you'd like to meet that I could introduce you to?",
        "Is there someone working on {focus} you'd like to meet? I'd be glad to introduce you.",
        levels=PEER | BELOW,
        networks=STRAT | DEV,
        seed="000",
    ),
    BankQuestion(
        "help-each-other",
        "reciprocity",
        "Where could our teams help each other more than we do today?",
        "Where could we help each other on {focus} more than we do today?",
        levels=PEER,
        networks=OPER | STRAT,
        bonds=ALLIANCE,
        seed="001",
    ),
    BankQuestion(
        "support-from-above",
        "reciprocity",
        "What would you like from someone at my level that you don't get today?",
        "What would be most useful to you from someone at my level working on {focus}?",
        levels=ABOVE,
        networks=OPER | DEV,
        seed="000",
    ),
)

BY_ID = {q.id: q for q in BANK}
