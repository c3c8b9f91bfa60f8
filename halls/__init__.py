"""Service halls (政务服务大厅): the map of halls and windows with opening hours on the
working-day calendar, appointments with quotas, queue numbers taken at kiosks, desks or
from the phone, calling at windows, live queue positions and the hall screen."""
