"""The asker's address: the socket peer, or a trusted proxy's X-Forwarded-For, never a forgery."""

from verkkoapu.security import address_hash, client_ip


def scope(peer, forwarded=None):
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"client": [peer, 40000], "headers": headers}


def test_without_a_proxy_the_peer_is_the_asker(settings):
    settings.PROXY_IP_HEADER, settings.TRUSTED_PROXIES = "", []
    assert client_ip(scope("198.51.100.4", forwarded="10.0.0.1")) == "198.51.100.4"


def test_the_trusted_proxy_header_names_the_asker(settings):
    settings.PROXY_IP_HEADER, settings.TRUSTED_PROXIES = "X-Forwarded-For", ["172.28.0.10"]
    # nginx appends the peer it saw; anything the asker put in front of it is ignored.
    forwarded = "6.6.6.6, 198.51.100.4"
    assert client_ip(scope("172.28.0.10", forwarded=forwarded)) == "198.51.100.4"


def test_a_header_from_anyone_but_the_proxy_is_ignored(settings):
    settings.PROXY_IP_HEADER, settings.TRUSTED_PROXIES = "X-Forwarded-For", ["172.28.0.10"]
    assert client_ip(scope("198.51.100.4", forwarded="6.6.6.6")) == "198.51.100.4"


def test_garbage_in_the_header_never_becomes_an_address(settings):
    settings.PROXY_IP_HEADER, settings.TRUSTED_PROXIES = "X-Forwarded-For", ["172.28.0.10"]
    assert client_ip(scope("172.28.0.10", forwarded="<script>")) is None
    assert client_ip({"headers": []}) is None


def test_ipv6_addresses_are_normalised():
    assert client_ip(scope("2001:DB8:0:0::1")) == "2001:db8::1"


def test_the_address_hash_is_keyed_and_not_the_address(settings):
    hashed = address_hash("198.51.100.4")
    assert "198.51.100.4" not in hashed and len(hashed) == 64
    settings.SECRET_KEY = "another key"
    assert address_hash("198.51.100.4") != hashed
