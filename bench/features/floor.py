"""The HTTP floor: uvicorn + FastAPI answering the same request body with a fixed small JSON,
no Redis. What no Python HTTP feature server on this machine can get under."""

from fastapi import FastAPI, Response
from pydantic import BaseModel

app = FastAPI()


class Request(BaseModel):
    features: list[str]
    entities: dict[str, list[int]]


@app.post("/api/v1/features/online")
async def online(body: Request) -> Response:
    return Response(b'{"results":[]}', media_type="application/json")
