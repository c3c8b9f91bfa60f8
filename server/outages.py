"""A dependency that does not answer, in words a client can act on: the exceptions of the
storage clients that mean "MongoDB (or Redis) is not answering" become a 503 problem naming
it, with Retry-After. Anything else stays an error of ours (500)."""
from __future__ import annotations

import hiredis
from pymongo.errors import ConnectionFailure, PyMongoError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.errors import Unavailable

RETRY_AFTER = 2


def as_unavailable(e: BaseException) -> Unavailable | None:
    if isinstance(e, (ConnectionFailure,)) or (isinstance(e, PyMongoError) and getattr(e, "timeout", False)):
        return Unavailable("数据服务暂时不可用，请稍后重试", code="mongodb_unavailable", retry_after=RETRY_AFTER)
    if isinstance(e, (RedisConnectionError, RedisTimeoutError, ConnectionError)) \
            and not isinstance(e, hiredis.ReplyError):
        return Unavailable("缓存服务暂时不可用，请稍后重试", code="redis_unavailable", retry_after=RETRY_AFTER)
    return None
