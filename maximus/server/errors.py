"""The only place errors become HTTP: every error is ``{"code", "message"}`` JSON, with no
stack trace; unexpected ones are logged in full and answered with 500 and the request id."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from maximus.errors import ErrorCode, MaximusError
from maximus.server.observability import request_id_var

logger = logging.getLogger("maximus.server")

STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_INPUT: 422,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.STORE_UNAVAILABLE: 503,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.PLUGIN: 400,
    ErrorCode.TOOL: 400,
    ErrorCode.MODEL_OUTPUT: 502,
    ErrorCode.CONFIG: 500,
    ErrorCode.CORRUPT_RECORD: 500,
    ErrorCode.BUDGET: 409,
}


def error_response(status: int, code: str, message: str, detail: object = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:
        headers = {"Retry-After": "1"}
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "detail": detail if detail is not None else message,
            "request_id": request_id_var.get(),
        },
        status_code=status,
        headers=headers,
    )


async def _maximus_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MaximusError)
    status = STATUS.get(exc.code, 500)
    if status >= 500:
        logger.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.message)
    return error_response(status, exc.code.value, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return error_response(422, ErrorCode.INVALID_INPUT.value, f"{where}: {first['msg']}", errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s", request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MaximusError, _maximus_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


__all__ = ["STATUS", "error_response", "install_error_handlers"]
