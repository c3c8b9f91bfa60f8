"""Queue numbers (取号): at a kiosk by the person code or an appointment's check-in code, at
the 导服台 for people without a phone, or from the phone near the hall; positions and waits."""
