"""主动提醒 on a birthday: the daily job finds the people whose birthday today crosses an age a
policy's rule names (80 for 高龄津贴) and tells them, once; someone turning 80 tomorrow is not
told today, and running the job again the same day tells nobody twice."""
from __future__ import annotations

from datetime import date

from policies.service import birthday_on
from tests.support import new_resident, verified_person

ELDERLY = "gz-gljt-2026"  # 80 周岁以上老年人高龄津贴


async def test_a_birthday_crossing_eighty_brings_the_allowance_unasked(idapp):
    today = idapp.ctx.policies.claims.today()
    assert 80 in idapp.ctx.policies.age_thresholds()
    born = birthday_on(today, 80)
    tomorrow = born.replace(day=born.day + 1) if born.day < 28 else born
    turning = await verified_person(idapp.api, await new_resident(idapp.ctx, name="寿星今天", birth=born.strftime("%Y%m%d")))
    not_yet = await verified_person(idapp.api, await new_resident(idapp.ctx, name="明天八十",
                                                                  birth=tomorrow.strftime("%Y%m%d")))
    notes = idapp.ctx.db.notifications
    # as if the day's run had not happened yet (a worker of this shared app may have run it)
    await idapp.ctx.db.policy_published.delete_one({"_id": f"birthdays:{today.isoformat()}"})
    assert await idapp.ctx.policies.birthdays() >= 1
    told = await notes.find({"person_id": turning["person"]["id"], "policy_id": ELDERLY}).to_list(10)
    assert len(told) == 1 and told[0]["state"] == "eligible", told
    if tomorrow != born:
        assert await notes.count_documents({"person_id": not_yet["person"]["id"], "policy_id": ELDERLY}) == 0
    # the same day again: nothing more
    assert await idapp.ctx.policies.birthdays() == 0
    assert await notes.count_documents({"person_id": turning["person"]["id"], "policy_id": ELDERLY}) == 1


def test_birthdays_on_the_29th_of_february():
    assert birthday_on(date(2028, 2, 29), 80) == date(1948, 2, 29)
    assert birthday_on(date(2028, 2, 29), 81) == date(1947, 2, 28)
    assert birthday_on(date(2026, 12, 6), 80) == date(1946, 12, 6)
