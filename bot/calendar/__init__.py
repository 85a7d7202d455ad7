"""Calendar capture: a member's secret iCal feed, read every few hours; each past meeting with
people of their network is logged once as a catch-up."""
