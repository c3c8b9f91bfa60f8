"""Request and response models of the hall map (政务服务地图)."""
from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from server.models import Input

MATTER_CODE = r"^[0-9]{6}-[A-Z]{2,4}-[0-9]{4}$"


class HallsQuery(Input):
    near: str | None = Field(None, max_length=40, pattern=r"^[0-9]{1,2}(\.[0-9]{1,8})?,[0-9]{2,3}(\.[0-9]{1,8})?$",
                             description="lat,lng（GCJ-02，中国境内），按距离排序", examples=["23.1291,113.2644"])
    matter: str | None = Field(None, pattern=MATTER_CODE, description="只看能办理该事项的大厅")
    region: str | None = Field(None, pattern=r"^[1-8][0-9]{5}$", description="行政区划代码（GB/T 2260），440100 含其下各区")

    @field_validator("near")
    @classmethod
    def _near(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = v.split(",")
        if len(parts) != 2:
            raise ValueError("请写成“纬度,经度”")
        try:
            lat, lng = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError("请写成“纬度,经度”") from None
        if not (3.8 <= lat <= 53.6 and 73.5 <= lng <= 135.1):
            raise ValueError("位置不在中国境内")
        return v


class HallSummary(BaseModel):
    id: str
    name: str
    region_code: str
    address: str
    lat: float
    lng: float
    phone: str
    distance_m: int | None = None
    open_now: bool
    today_hours: list[str] = Field(description="今天的开放时段（闭厅时为空）")
    waiting: int = Field(description="此刻排队人数")
    accessibility: list[str]


class HallList(BaseModel):
    items: list[HallSummary]


class WindowOut(BaseModel):
    number: int
    name: str
    queues: list[str]
    matters: list[str] | None = Field(description="只办这些事项；null 为综合窗口")
    open: bool = Field(description="此刻有工作人员在窗口")


class MatterWait(BaseModel):
    code: str
    name: str
    queue: str
    waiting: int
    wait_minutes: int


class HallDetail(HallSummary):
    week_hours: dict[str, list[str]] = Field(description="workday / sat / sun 的开放时段；法定节假日闭厅，调休上班日按工作日开放")
    windows: list[WindowOut]
    matters: list[MatterWait]
    queues: dict[str, str]
    remote_radius_m: int = Field(description="线上取号须在大厅多少米以内")


class Place(BaseModel):
    hall_id: str
    name: str
    address: str
    phone: str
    hours: str = Field(description="办理时间")
