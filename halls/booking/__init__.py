"""Appointments (预约): slots with quotas, one live booking per person and matter, cancel and
reschedule until an hour before, no-shows and the booking block they lead to."""
