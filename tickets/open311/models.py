"""Open311 GeoReport v2 requests, as the specification names their fields."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from server.models import Input, Line


class PartnerIn(Input):
    name: Line = Field(min_length=2, max_length=60, description="合作方名称（如某街道的 311 应用）")


class PartnerOut(BaseModel):
    id: str
    name: str
    api_key: str | None = Field(None, description="只在登记时显示一次")
    created_at: int


class PartnerList(BaseModel):
    items: list[PartnerOut]


class RequestsQuery(BaseModel):
    service_request_id: str | None = Field(None, max_length=400, description="逗号分隔的编号")
    service_code: str | None = Field(None, max_length=400, description="逗号分隔的服务代码")
    start_date: datetime | None = Field(None, description="W3C 时间，如 2026-12-01T00:00:00+08:00")
    end_date: datetime | None = None
    status: str | None = Field(None, pattern=r"^(open|closed)(,(open|closed))?$")
    jurisdiction_id: str | None = Field(None, max_length=40)


class DiscoveryQuery(BaseModel):
    jurisdiction_id: str | None = Field(None, max_length=40)


class PostRequestIn(Input):
    """POST requests.{format}: application/x-www-form-urlencoded, as the specification says."""

    api_key: str = Field(min_length=10, max_length=100)
    service_code: str = Field(min_length=1, max_length=40)
    lat: float | None = Field(None, ge=3.8, le=53.6)
    long: float | None = Field(None, ge=73.5, le=135.1)
    address_string: Line | None = Field(None, max_length=200)
    address_id: str | None = Field(None, max_length=40)
    description: str = Field(min_length=5, max_length=2000)
    media_url: str | None = Field(None, max_length=500)
    first_name: Line | None = Field(None, max_length=30)
    last_name: Line | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=20, pattern=r"^\+?[0-9 -]{5,20}$")
    email: str | None = Field(None, max_length=100)
    jurisdiction_id: str | None = Field(None, max_length=40)
