"""The private two-way ledger and the people in it: favours, introductions and catch-ups
(``service``), who a member talks about (``people``), Slack names and time zones
(``directory``), the network review (``network``), reaction capture and referrals."""
