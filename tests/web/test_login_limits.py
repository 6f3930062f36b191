"""Failed-login limits hold a guesser back without locking the account's owner out."""

from __future__ import annotations

from hall.web.ratelimit import LoginLimits, LoginPolicy
from tests.helpers import csrf_of
from tests.site import Site

POLICY = LoginPolicy(per_user_address=5, window=300, per_address=20, per_user=50, user_window=3600)


def test_five_failures_from_one_address_stop_that_address_for_that_account() -> None:
    limits = LoginLimits(POLICY)
    for _ in range(5):
        limits.fail("clerk1", "198.51.100.7", 0.0)
    assert limits.retry_after("clerk1", "198.51.100.7", 1.0) > 0
    # The owner at their own counter is not the one guessing: they may still log in.
    assert limits.retry_after("clerk1", "10.1.1.21", 1.0) == 0
    # And the guesser's address may still be used for other accounts, within its own limit.
    assert limits.retry_after("clerk2", "198.51.100.7", 1.0) == 0
    # The window passes.
    assert limits.retry_after("clerk1", "198.51.100.7", 301.0) == 0


def test_one_address_trying_many_accounts_is_stopped_after_twenty() -> None:
    limits = LoginLimits(POLICY)
    for n in range(20):
        assert limits.retry_after(f"user{n}", "198.51.100.7", 0.0) == 0
        limits.fail(f"user{n}", "198.51.100.7", 0.0)
    assert limits.retry_after("someone-new", "198.51.100.7", 0.0) > 0


def test_an_account_guessed_at_from_everywhere_backs_off_but_not_where_its_owner_works() -> None:
    limits = LoginLimits(POLICY)
    limits.succeed("clerk1", "10.1.1.21", 0.0)  # the owner's counter
    for n in range(50):
        limits.fail("clerk1", f"203.0.113.{n}", 10.0)
    assert limits.retry_after("clerk1", "192.0.2.1", 11.0) > 0
    assert limits.retry_after("clerk1", "10.1.1.21", 11.0) == 0
    # The account-wide limit is the slow one: an hour.
    assert limits.retry_after("clerk1", "192.0.2.1", 3611.0) == 0


def test_an_admin_unlock_forgets_the_accounts_failures_from_every_address() -> None:
    limits = LoginLimits(POLICY)
    for n in range(50):
        limits.fail("Clerk1", f"203.0.113.{n % 3}", 0.0)
    limits.fail("clerk2", "203.0.113.0", 0.0)
    assert limits.retry_after("clerk1", "203.0.113.1", 1.0) > 0
    assert limits.unlock("CLERK1") == 4  # three addresses and the account-wide key
    assert limits.retry_after("clerk1", "192.0.2.1", 1.0) == 0
    assert limits.retry_after("clerk1", "203.0.113.1", 1.0) == 0  # 17 failures there: under the address's 20
    assert limits.retry_after("clerk2", "203.0.113.0", 1.0) == 0


def _fail(site: Site, username: str, times: int) -> int:
    site.anonymous()
    token = csrf_of(site.client.get("/login").text)
    status = 0
    for _ in range(times):
        status = site.client.post(
            "/login", data={"username": username, "password": "not-the-password", "csrf_token": token}
        ).status_code
    return status


def test_an_admin_lifts_a_lock_through_the_api_and_the_clerk_logs_in_again(site: Site) -> None:
    clerk = site.users["clerk"]
    assert _fail(site, clerk, 6) == 429
    token = site.login("admin")
    done = site.post("/api/v1/login-limits/unlock", token, {"username": clerk})
    assert done.status_code == 200, done.text
    assert done.json() == {"username": clerk, "unlocked": True}
    site.login("clerk")
    assert site.client.get("/api/v1/me").json()["username"] == clerk


def test_only_an_admin_may_lift_a_lock(site: Site) -> None:
    for role in ("clerk", "supervisor", "technician"):
        token = site.login(role)
        done = site.post("/api/v1/login-limits/unlock", token, {"username": site.users["clerk"]})
        assert done.status_code == 403, role
    site.anonymous()
    assert site.client.post("/api/v1/login-limits/unlock", json={"username": "x"}).status_code in (401, 403)
    token = site.login("admin")
    assert site.post("/api/v1/login-limits/unlock", token, {"username": ""}).status_code == 422
    assert site.post("/api/v1/login-limits/unlock", token, {}).status_code == 422
