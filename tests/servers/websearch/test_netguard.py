"""The address rules on their own: public addresses pass, every private form is refused, allowances are narrow."""

from __future__ import annotations

import ipaddress

import pytest
from k2_websearch.errors import BlockedUrl
from k2_websearch.netguard import NetPolicy, blocked_reason, literal_ip

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]
PRIVATE = [
    "127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.1", "100.64.0.1", "169.254.1.1", "0.0.0.0",
    "224.0.0.251", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
    "2002:a00:1::", "::", "ff02::1", "198.18.0.1",
]  # fmt: skip


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize("address", PRIVATE)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address), allow_private=False) is not None


@pytest.mark.parametrize(
    ("written", "meant"),
    [("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("[::1]", "::1")],
)
def test_addresses_in_disguise_are_read_as_the_resolver_reads_them(written: str, meant: str) -> None:
    assert literal_ip(written) == ipaddress.ip_address(meant)


def test_allow_private_networks_opens_private_ranges_but_not_metadata_or_multicast() -> None:
    for address in ("127.0.0.1", "10.0.0.1", "100.64.0.1", "fd12::1"):
        assert blocked_reason(ipaddress.ip_address(address), allow_private=True) is None
    for address in ("169.254.169.254", "fd00:ec2::254", "224.0.0.1", "::ffff:169.254.169.254"):
        assert blocked_reason(ipaddress.ip_address(address), allow_private=True) is not None


def test_an_allowed_host_port_opens_only_that_port() -> None:
    policy = NetPolicy(allow_hosts=["127.0.0.1:8080"])
    policy.check_url("http://127.0.0.1:8080/page")
    with pytest.raises(BlockedUrl):
        policy.check_url("http://127.0.0.1:8081/page")
    with pytest.raises(BlockedUrl):
        policy.check_url("http://localhost:8080/page")
