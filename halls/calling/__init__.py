"""Calling (叫号): window clerks open a window, call the next number by the queue rules,
recall, skip, transfer, serve and finish; the hall screen; the hall supervisor's statistics."""
