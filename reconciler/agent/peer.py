"""The agent's side of the heartbeats: send ours, take the peer's, say what the arbiter needs.

A thread sends one heartbeat per network every `heartbeat_interval`, carrying this node's view
(set by the main loop with `publish`) and an echo of the newest heartbeat accepted from the peer;
between sends it receives. Each of our heartbeats' send time is remembered by sequence number,
so the echo in the peer's heartbeat tells how long ago the peer provably heard from us
(`echo_age`, what leases are anchored on).

The main loop is woken (`wake`) when something it decides on changes: the peer's view of an
application or its overrides, the peer going silent for the dead time, or coming back.
"""

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

import psutil

from reconciler.arbiter.heartbeat import AppView, Heartbeat
from reconciler.arbiter.links import HeartbeatLinks
from reconciler.arbiter.placement import Override
from reconciler.arbiter.views import PeerApp, PeerView
from reconciler.observe.host import read_host

SENT_KEPT = 512  # send times remembered: many dead times' worth of heartbeats


class PeerLink:
    def __init__(
        self,
        links: HeartbeatLinks,
        interval: float,
        dead_time: float,
        wake: Callable[[], None],
        thread: Callable[[str, Callable[[], None]], threading.Thread] | None = None,
    ) -> None:
        self.links = links
        self._interval = interval
        self._dead_time = dead_time
        self._wake = wake
        self._boot = uuid.uuid4().hex
        self._seq = 0
        self._sent: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()
        self._apps: dict[str, AppView] = {}
        self._load = 0.0
        self._cpu = 0.0
        self._maintenance = False
        self.last: Heartbeat | None = None
        self.last_at: float | None = None  # monotonic, of `last`
        self._started = time.monotonic()
        self._silent = False
        self._stop = threading.Event()
        make = thread or (lambda name, target: threading.Thread(target=target, name=name, daemon=True))
        self._thread = make("heartbeat", self._run)

    @property
    def peer(self) -> str:
        return self.links.peer

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.links.close()

    def publish(self, apps: dict[str, AppView], maintenance: bool = False) -> None:
        """What our next heartbeats say of this node's applications."""
        with self._lock:
            self._apps = dict(apps)
            self._maintenance = maintenance

    def _factory(self, network: str) -> Heartbeat:
        with self._lock:
            self._seq += 1
            self._sent[self._seq] = time.monotonic()
            while len(self._sent) > SENT_KEPT:
                self._sent.popitem(last=False)
            echo = self.last
            return Heartbeat(
                cluster=self.links.cluster,
                sender=self.links.node,
                receiver=self.links.peer,
                network=network,
                boot_id=self._boot,
                seq=self._seq,
                sent_at=time.time(),
                applications=self._apps,
                load=self._load,
                cpu_percent=self._cpu,
                maintenance=self._maintenance,
                echo_boot=echo.boot_id if echo is not None else None,
                echo_seq=echo.seq if echo is not None else None,
            )

    def _run(self) -> None:
        next_send = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_send:
                self._sample_load()
                self.links.send(self._factory)
                next_send = now + self._interval
            for _, heartbeat in self.links.receive(max(0.0, next_send - time.monotonic())):
                self._take(heartbeat)
            self._watch_silence()

    def _sample_load(self) -> None:
        load = read_host().load_per_cpu
        cpu = psutil.cpu_percent(interval=None)
        with self._lock:
            self._load, self._cpu = load, cpu

    def _take(self, heartbeat: Heartbeat) -> None:
        with self._lock:
            before = self.last
            self.last, self.last_at = heartbeat, time.monotonic()
        if before is None or _decisive(before) != _decisive(heartbeat):
            self._wake()

    def _watch_silence(self) -> None:
        silent = self.links.peer_silent_for(time.monotonic()) >= self._dead_time
        if silent != self._silent:
            self._silent = silent
            self._wake()

    def echo_age(self, now: float) -> float | None:
        """Seconds since we sent the newest heartbeat the peer reports having accepted."""
        with self._lock:
            last = self.last
            if last is None or last.echo_boot != self._boot or last.echo_seq is None:
                return None
            sent = self._sent.get(last.echo_seq)
        return None if sent is None else now - sent

    def view(self, now: float) -> PeerView:
        """The peer as the arbiter takes it (`now` from time.monotonic())."""
        with self._lock:
            last = self.last
        ages = {
            n: (now - at if (at := self.links.last_heard.get(n)) is not None else None)
            for n in self.links.networks
        }
        apps = {} if last is None else {name: _peer_app(view) for name, view in last.applications.items()}
        return PeerView(
            node=self.links.peer,
            link_ages=ages,
            listening_for=now - self._started,
            echo_age=self.echo_age(now),
            load=last.load if last is not None else None,
            apps=apps,
        )

    def view_now(self) -> PeerView:
        return self.view(time.monotonic())

    def overrides(self) -> dict[str, Override]:
        with self._lock:
            last = self.last
        return {} if last is None else {name: view.override for name, view in last.applications.items()}


def _peer_app(view: AppView) -> PeerApp:
    return PeerApp(
        running=view.running,
        lease_epoch=view.lease_epoch,
        lease_holder=view.lease_holder,
        lease_expires_in=view.lease_expires_in,
        disk=view.disk,
        failed=view.failed,
        maintenance=view.override.maintenance,
        override=view.override,
    )


def _decisive(heartbeat: Heartbeat) -> str:
    """What of a heartbeat the arbiter decides on (not its sequence, times or load)."""
    return "".join(
        f"{name}:{v.running}:{v.lease_epoch}:{v.lease_holder}:{v.disk}:{v.failed}:{v.override.model_dump_json()};"
        for name, v in sorted(heartbeat.applications.items())
    )
