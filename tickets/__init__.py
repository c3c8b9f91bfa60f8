"""12345 接诉即办: tickets (咨询、求助、投诉、举报、建议), dispatched by the hotline centre to
departments, worked within time limits, supervised, called back and archived."""
