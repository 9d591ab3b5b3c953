"""Knowledge ingestion over the API, as a background job with progress.

`POST /v1/knowledge/ingest {"path": ...}` starts one (202, one at a time per server); `GET
/v1/knowledge/jobs/{id}` says how far it is (documents done of total, the current one, chunks) and, once
finished, what it did. The files are read through the configured filesystem server, as `k2 ingest` reads them,
so only what that server's roots allow can be ingested; the caller's role applies to those reads. The first
ingest into an empty index makes `knowledge.search` available to the engines from the next request on.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup

from k2_host.api.roles import Principal, current_principal

if TYPE_CHECKING:
    from k2_host.rag.models import IngestProgress
    from k2_host.runtime import Runtime

logger = logging.getLogger(__name__)
JobStatus = Literal["running", "completed", "failed"]


@dataclass
class IngestJob:
    id: str
    path: str
    principal: Principal
    status: JobStatus = "running"
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    done: int = 0
    total: int | None = None
    current: str = ""
    chunks: int = 0
    report: dict[str, Any] | None = None
    error: str | None = None
    finished: anyio.Event = field(default_factory=anyio.Event)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "knowledge.ingest_job",
            "path": self.path,
            "status": self.status,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "progress": {"done": self.done, "total": self.total, "current": self.current, "chunks": self.chunks},
            "report": self.report,
            "error": self.error,
        }


class JobBusy(Exception):
    pass


class IngestJobs:
    def __init__(self, runtime: Runtime, keep: int = 100) -> None:
        self.runtime = runtime
        self.keep = keep
        self.group: TaskGroup | None = None  # the server's, set while it runs
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def start(self, path: str, principal: Principal) -> IngestJob:
        if self.group is None:
            raise RuntimeError("the server is not running")
        if any(j.status == "running" for j in self._jobs.values()):
            raise JobBusy
        job = IngestJob(id=f"ingest_{uuid.uuid4().hex[:16]}", path=path, principal=principal)
        self._jobs[job.id] = job
        while len(self._jobs) > self.keep:
            self._jobs.popitem(last=False)
        self.group.start_soon(self._run, job)
        return job

    async def _run(self, job: IngestJob) -> None:
        from k2_host.knowledge import Knowledge
        from k2_host.rag.service import RAG

        token = current_principal.set(job.principal)  # its reads are the caller's
        rt = self.runtime
        rag = rt.knowledge.rag if rt.knowledge is not None else None
        opened = False

        def progress(p: IngestProgress) -> None:
            job.done, job.total, job.current, job.chunks = p.done, p.total, p.current, p.chunks

        try:
            if rag is None:
                rag = await anyio.to_thread.run_sync(RAG.open, rt.config.rag)
                opened = True
            report = await rag.ingest_path(rt.manager, job.path, progress=progress)
            job.report = report.model_dump(mode="json", exclude={"documents"}) | {
                "ingested": report.ingested,
                "failed": report.failed,
                "unchanged": sum(d.status == "unchanged" for d in report.documents),
                "failures": [
                    {"source": d.source, "reason": d.reason} for d in report.documents if d.status == "failed"
                ],
            }
            job.status = "completed"
            if opened:
                rt.attach_knowledge(Knowledge(rag))
                opened = False
        except Exception as exc:  # the RAG layer's errors are actionable messages
            logger.warning("ingest job %s failed: %s", job.id, exc)
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        finally:
            if job.status == "running":  # cancelled: the server is stopping
                job.status, job.error = "failed", "cancelled: the server stopped"
            if opened and rag is not None:
                rag.close()
            current_principal.reset(token)
            job.finished_at = time.time()
            job.finished.set()
