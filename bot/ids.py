"""Every id that ties a Slack surface Ally sends to the listener that answers it, in one place.

Action ids go on buttons, view callback ids on modals, shortcut callback ids in ``manifest.yml``.
A message built in ``bot/`` (the weekly DM) and the listener in ``handlers/`` that answers its
buttons both name the id from here, so the two cannot drift apart.
"""

from __future__ import annotations

# Buttons (``block_actions``)
OPEN_LOG_MODAL = "open_log_modal"  # opens "Record who helped you"
OPEN_CONTACT_MODAL = "open_contact_modal"  # value: the contact's key, or none for a new contact
SAY_THANKS = "say_thanks"  # value: the favour's interaction id; opens the thank-you modal
SHOW_NETWORK = "show_network"  # the help's "Review my network": the 2-2-2 review
SHOW_QUESTIONS = "show_questions"  # value: the contact's key or a topic
HOME_LOG_CATCH_UP = "home_log_catch_up"  # value: the contact's key, or none to pick someone
ASK_REFERRALS = "ask_referrals"  # value: the contact's key
LOG_REACTION_FAVOUR = "log_reaction_favour"  # "Log it" after a reaction (value: JSON)
FORGET_CONFIRM = "forget_confirm"  # "Delete everything"; value: whose data
FORGET_CANCEL = "forget_cancel"  # "Keep my data"
NUDGE_LOG_CATCH_UP = "nudge_log_catch_up"  # weekly DM; value: the contact's key
NUDGE_SNOOZE = "nudge_snooze"  # weekly DM: snooze the person, or pause the DMs
NUDGE_NOT_NOW = "nudge_not_now"  # weekly DM: "Done for this week"
CALENDAR_ADD = "calendar_add"  # weekly DM: add someone met in a calendar meeting
NUDGE_SETTINGS = "nudge_settings"  # opens Settings, from the weekly DM and Home
NUDGE_KEEP_PERSON = "nudge_keep_person"  # value: the contact's key, the same person next week
PEOPLE_PAGE = "people_page"  # value: JSON {"filter": words, "page": n}; lists people
SHOW_PERSON = "show_person"  # value: the contact's key; shows the history with them
LEDGER_LINE_MENU = "ledger_line_menu"  # overflow on a ledger line: "edit:<id>" or "delete:<id>"
DELETE_ENTRY_CONFIRM = "delete_entry_confirm"  # value: the entry's interaction id
DELETE_CONTACT = "delete_contact"  # value: the contact's key; asks to confirm
DELETE_CONTACT_CONFIRM = "delete_contact_confirm"  # value: the contact's key
CORRECTION_CANCEL = "correction_cancel"  # keeps what a confirmation offered to delete
WAKE_CONTACT = "wake_contact"  # value: the contact's key; ends their snooze
IMPORT_CONFIRM = "import_confirm"  # value: the Slack file id of the address book to import
IMPORT_CANCEL = "import_cancel"  # keeps the network as it is

# Views (``view_submission``), by callback id
LOG_FAVOUR_MODAL = "log_favour_modal"  # "Record who helped you"
CONTACT_MODAL = "contact_modal"  # how the member places a contact
CATCH_UP_MODAL = "home_catch_up_modal"  # "Log a catch-up", from Home
REFERRALS_MODAL = "referrals_modal"  # "Who else should I talk to?"
# The "who else should I talk to?" inputs, in the referrals form and the plans' learned form
REFERRED_PEOPLE = "people"
REFERRED_OUTSIDE = "outside"
SAY_THANKS_MODAL = "say_thanks_modal"  # the thank-you to send
SAY_THANKS_DONE = "say_thanks_modal_done"  # the same modal once the thank-you is sent
EDIT_ENTRY_MODAL = "edit_entry_modal"  # correcting a ledger entry
SETTINGS_MODAL = "settings_modal"  # the weekly DM's day, time and default cadences
HOME = "home"  # the App Home tab's view

# Shortcuts, as declared in manifest.yml
LOG_FAVOUR_SHORTCUT = "log_favour"  # global: "Record who helped you"
LOG_MESSAGE_FAVOUR_SHORTCUT = "log_message_favour"  # on a message: "Log as a favour"

# Meeting plans (seed 001's one person a week): the Plan it button and form, and the
# "did you meet?" answers (value: the plan's id)
PLAN_IT = "plan_it"  # value: the contact's key
PLAN_MODAL = "plan_modal"  # when and how to meet
PLAN_MET = "plan_met"  # "Yes"
PLAN_NOT_YET = "plan_not_yet"  # "Not yet"
PLAN_SKIP = "plan_skip"  # "Skip"
LEARNED_MODAL = "plan_learned_modal"  # what the member learned when they met
