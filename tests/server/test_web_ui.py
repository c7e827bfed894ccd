"""The web UI at ``/ui`` in a real headless Chromium against a real ``maximus serve`` (the
scripted fake models of ``tests/support``): sign-in, threads, a live run with its plan and
candidates, an approval answered from the page, history with a fork, the graph, memory with
the vault redacted, plugins, and another user's threads kept out of sight. Every page is
screenshotted, checked by axe-core, and must log no console errors and request nothing from
anywhere but the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.support.browser import (
    axe_violations,
    chromium,
    color_scheme,
    console_errors,
    foreign,
    requested_urls,
    screenshot,
)
from tests.support.http import GRAPHS, KEYS, headers, http_server, server_env

pytestmark = pytest.mark.integration
SECRET = "vault-secret-9f3Kq-never-shown"
WAIT_S = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("web-ui")
    env = server_env(
        data,
        server__graphs={**GRAPHS, "risky": "tests.support.ui_graphs:risky"},
        memory__vault_key=Fernet.generate_key().decode(),
    )
    with http_server(env) as record:
        record["data"] = data
        yield record


@pytest.fixture(scope="module")
def url(server: dict[str, Any]) -> str:
    return str(server["url"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def page(browser: Any, url: str) -> Iterator[Any]:
    """The browser, signed out, with its logs drained; afterwards no console errors (beyond
    the ones a test expects, which it drains itself) and nothing requested off the machine."""
    signed_out(browser, url)
    console_errors(browser)
    requested_urls(browser)
    yield browser
    assert not css(browser, ".toast-error")
    assert console_errors(browser) == []
    assert foreign(requested_urls(browser), url) == []


def wait(driver: Any, condition: Any, timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # Views redraw as data arrives: an element found a moment ago may have been replaced.
    ignored = (StaleElementReferenceException,)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def one(driver: Any, selector: str) -> Any:
    return wait(driver, lambda d: (css(d, selector) or [None])[0])


def signed_out(driver: Any, url: str) -> None:
    """Open the page and sign out with its own button if a key is kept."""
    driver.get(f"{url}/ui/#/threads")
    wait(driver, lambda d: css(d, "#api-key") or css(d, "table.threads"))
    if not css(driver, "#api-key"):
        one(driver, "#sign-out").click()
        one(driver, "#api-key")
    assert driver.execute_script("return sessionStorage.length") == 0


def sign_in(driver: Any, url: str, user: str) -> None:
    signed_out(driver, url)
    one(driver, "#api-key").send_keys(KEYS[user] + "\n")
    one(driver, "table.threads")


def choose(driver: Any, selector: str, text: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(one(driver, selector)).select_by_visible_text(text)


def start_from_form(driver: Any, graph: str, goal: str, **options: str) -> str:
    """Fill the new-run form and start; returns the new thread's id (from the URL)."""
    choose(driver, "#run-graph", graph)
    wait(driver, lambda d: css(d, "#in-goal") and css(d, "#ctx-mode"))
    one(driver, "#in-goal").send_keys(goal)
    if options:
        one(driver, ".options summary").click()
        for name, value in options.items():
            choose(driver, f"#ctx-{name}", value)
    one(driver, ".new-run button[type=submit]").click()
    wait(driver, lambda d: "#/threads/" in d.current_url)
    return str(driver.current_url.split("#/threads/")[1].split("?")[0])


def accessible(driver: Any) -> None:
    violations = axe_violations(driver)
    assert violations == [], json.dumps(violations, indent=1)


def test_the_page_is_static_files_from_the_package_and_reaches_only_the_server(url: str) -> None:
    page = httpx.get(f"{url}/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{url}/ui/js/app.js").headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{url}/ui").status_code == 308
    for outside in ("/ui/%2e%2e/app.py", "/ui/..%2fapp.py", "/ui/js/nope.js", "/ui/index.py"):
        assert httpx.get(f"{url}{outside}").status_code == 404, outside
    assert httpx.get(f"{url}/ui/config.json").json() == {"auth": "api_key"}


def test_sign_in_refuses_a_wrong_key_and_lists_the_callers_threads(page: Any, url: str) -> None:
    thread = httpx.post(f"{url}/threads", json={}, headers=headers("alice")).json()
    done = httpx.post(
        f"{url}/threads/{thread['thread_id']}/runs/wait",
        json={"assistant_id": "chat", "input": {"messages": [{"type": "human", "content": "hi"}]}},
        headers=headers("alice"),
    )
    assert done.status_code == 200, done.text

    page.get(f"{url}/ui/")
    one(page, "#api-key").send_keys("not-a-key\n")
    wait(page, lambda d: "not accepted" in one(d, ".sign-in .error").text)
    assert len(console_errors(page)) == 1  # the refused request (401) shows in the console
    accessible(page)
    screenshot(page, "sign-in")

    field = one(page, "#api-key")
    field.clear()
    field.send_keys(KEYS["alice"] + "\n")
    row = one(page, f"tr[data-thread='{thread['thread_id']}']")
    assert "hi" in row.text and "idle" in row.text and "chat" in row.text
    one(page, "#thread-search").send_keys("no such goal")
    wait(page, lambda d: not css(d, f"tr[data-thread='{thread['thread_id']}']"))
    one(page, "#thread-search").clear()
    one(page, "#thread-search").send_keys("h")
    one(page, f"tr[data-thread='{thread['thread_id']}']")
    assert page.execute_script("return sessionStorage.getItem('maximus.apiKey')") == KEYS["alice"]
    assert page.execute_script("return localStorage.length") == 0
    accessible(page)
    screenshot(page, "threads")


def test_a_run_started_from_the_form_shows_plan_candidates_tool_and_reflection_live(
    page: Any, url: str
) -> None:
    sign_in(page, url, "alice")
    thread_id = start_from_form(page, "agent", "compute 17*23+9")
    answer = one(page, ".answer")
    assert "400" in answer.text
    run = one(page, "#run")
    assert int(run.get_attribute("data-events")) >= 5  # drawn from the SSE stream, event by event
    steps = css(page, "details.step")
    assert [s.get_attribute("data-status") for s in steps] == ["done", "done"]
    first = steps[0]
    assert "multiply" in first.text
    bars = css(page, "details.step[data-step='1'] .chart .bar")
    assert len(bars) == 2
    chosen = css(page, "details.step[data-step='1'] .chart .bar.chosen")
    assert len(chosen) == 1 and chosen[0].get_attribute("data-candidate") == "0"
    assert "0.90" in first.text and "0.30" in first.text
    assert "outcome 0" in first.text and "outcome 1" in first.text  # predicted outcomes
    assert 'calculator({"expression":"17*23"})' in first.text and "391" in first.text
    # The reflection: judged from the tool's status (the default), so no model call and no lesson.
    assert "Reflection continue success" in first.text
    assert 'Step 1: calculator({"expression": "17*23"}) ran.' in first.text
    calls = one(page, "dd[data-stat='Model calls']").text
    assert int(calls) > 0
    state = httpx.get(f"{url}/threads/{thread_id}/state", headers=headers("alice")).json()
    assert int(calls) == state["values"]["counters"]["model_calls"]
    accessible(page)
    screenshot(page, "run")


def test_an_approval_from_the_page_resumes_the_run_with_edited_arguments(
    page: Any, url: str, server: dict[str, Any]
) -> None:
    sign_in(page, url, "alice")
    thread_id = start_from_form(page, "risky", "save the greeting", on_risk="human")
    panel = one(page, "section.interrupt")
    wait(page, lambda d: "Approval needed" in panel.text)
    assert "write_file" in panel.text and "0.20" in panel.text
    assert "out.txt holds the greeting" in panel.text
    # The run so far is drawn behind the prompt: the plan, and the candidates with their scores.
    step = one(page, "details.step[data-step='1']")
    assert "save the greeting" in step.text and "awaiting_approval" in one(page, ".run-status").text
    assert len(css(page, "details.step[data-step='1'] .chart .bar.chosen")) == 1
    accessible(page)
    screenshot(page, "approval")
    args = one(page, "#approval-args")
    args.clear()
    args.send_keys('{"path": "out.txt", "content": "edited on the page"}')
    one(page, "#approval-note").send_keys("looks fine")
    one(page, "button.approve").click()
    wait(page, lambda d: css(d, ".answer") and "saved" in css(d, ".answer")[0].text)
    assert not css(page, "section.interrupt")
    written = Path(server["data"]) / "workspace" / "out.txt"
    assert written.read_text() == "edited on the page"
    values = httpx.get(f"{url}/threads/{thread_id}/state", headers=headers("alice")).json()
    assert values["values"]["approvals"][0] | {"run": 0} == {
        "run": 0,
        "step_id": 1,
        "candidate_id": 0,
        "approved": True,
        "note": "looks fine",
    }
    assert "Approved by a human" in one(page, "details.step[data-step='1']").text
    tokens = values["values"]["counters"]["tokens"]
    assert tokens > 0 and one(page, "dd[data-stat='Tokens']").text == str(tokens)


def _agent_thread(url: str, user: str = "alice") -> str:
    thread = httpx.post(f"{url}/threads", json={}, headers=headers(user)).json()
    done = httpx.post(
        f"{url}/threads/{thread['thread_id']}/runs/wait",
        json={"assistant_id": "agent", "input": {"goal": "compute 17*23+9"}},
        headers=headers(user),
        timeout=60,
    )
    assert done.status_code == 200, done.text
    return str(thread["thread_id"])


def test_a_checkpoint_is_opened_and_the_run_forked_from_it(page: Any, url: str) -> None:
    thread_id = _agent_thread(url)
    history = httpx.post(
        f"{url}/threads/{thread_id}/history", json={"limit": 100}, headers=headers("alice")
    ).json()
    # The first step's simulation (history is newest first): a fork from there runs the whole
    # plan again, which the looping scripts answer the same way.
    target = [s for s in history if s["next"] == ["simulate"]][-1]
    checkpoint_id = target["checkpoint"]["checkpoint_id"]
    sign_in(page, url, "alice")
    page.get(f"{url}/ui/#/threads/{thread_id}")
    one(page, ".answer")
    one(page, "details.history summary").click()
    one(page, f"li[data-checkpoint='{checkpoint_id}'] button.open").click()
    opened = one(page, "section.opened")
    assert checkpoint_id in opened.text and "next: simulate" in opened.text
    assert "multiply" in opened.text  # that checkpoint's plan, drawn like a run
    accessible(page)
    screenshot(page, "history")
    one(page, "button.fork").click()
    wait(page, lambda d: "ended" in one(d, "p.live").text)
    after = httpx.post(
        f"{url}/threads/{thread_id}/history", json={"limit": 200}, headers=headers("alice")
    ).json()
    forks = [
        s
        for s in after
        if (s["parent_checkpoint"] or {}).get("checkpoint_id") == checkpoint_id
        and s["metadata"].get("source") == "update"
    ]
    assert len(forks) == 1
    assert after[0]["next"] == [] and after[0]["values"]["final_answer"] == "400"
    assert len(after) > len(history) and not css(page, ".toast-error")
    wait(page, lambda d: len(css(d, ".timeline li")) == min(25, len(after)))

    # Replay: the same checkpoint again, without changes; the new run continues from it.
    page.refresh()
    one(page, "details.history summary").click()
    one(page, f"li[data-checkpoint='{checkpoint_id}'] button.open").click()
    one(page, "button.replay").click()
    wait(page, lambda d: "ended" in one(d, "p.live").text)
    replayed = httpx.post(
        f"{url}/threads/{thread_id}/history", json={"limit": 300}, headers=headers("alice")
    ).json()
    children = [
        s for s in replayed if (s["parent_checkpoint"] or {}).get("checkpoint_id") == checkpoint_id
    ]
    # The original run's next step, the fork's update, and the replay's copy of the checkpoint
    # (LangGraph records a replay from a past checkpoint as a "fork" of it).
    assert sorted(c["metadata"]["source"] for c in children) == ["fork", "loop", "update"]
    assert len(replayed) > len(after)
    assert replayed[0]["next"] == [] and replayed[0]["values"]["final_answer"] == "400"


def test_a_second_user_cannot_see_the_first_users_thread(page: Any, url: str) -> None:
    thread_id = _agent_thread(url, "alice")
    sign_in(page, url, "alice")
    one(page, f"tr[data-thread='{thread_id}']")
    one(page, "#sign-out").click()
    one(page, "#api-key")
    assert page.execute_script("return sessionStorage.length") == 0
    one(page, "#api-key").send_keys(KEYS["bob"] + "\n")
    one(page, "table.threads")
    assert not css(page, f"tr[data-thread='{thread_id}']")
    assert thread_id not in page.page_source
    page.get(f"{url}/ui/#/threads/{thread_id}")
    alert = wait(page, lambda d: [e for e in css(d, "main > p.error") if e.text])[0]
    assert thread_id in alert.text and "no thread" in alert.text.lower()
    assert "compute 17*23+9" not in page.page_source
    errors = console_errors(page)
    assert len(errors) == 1 and "404" in errors[0]
    screenshot(page, "isolation")


def test_the_graph_is_drawn_offline_from_the_assistant_graph(page: Any, url: str) -> None:
    sign_in(page, url, "alice")
    page.get(f"{url}/ui/#/graph/agent")
    one(page, ".graph svg")
    nodes = {n.get_attribute("data-node") for n in css(page, ".graph g.node")}
    assert {"__start__", "plan", "simulate", "approve", "execute", "reflect", "respond"} <= nodes
    graph = httpx.get(f"{url}/assistants/agent/graph", headers=headers("alice")).json()
    assert len(css(page, ".graph path.edge")) == len(graph["edges"])
    assert len(css(page, ".graph path.edge.conditional")) == sum(
        1 for e in graph["edges"] if e.get("conditional")
    )
    accessible(page)
    screenshot(page, "graph")


def test_memory_search_browse_add_delete_and_no_vault_secret_in_the_dom(
    page: Any, url: str
) -> None:
    alice = headers("alice")
    fact = {"name": "deploy day", "summary": "Releases go out on Thursdays"}
    assert httpx.post(f"{url}/memory/semantic", json=fact, headers=alice).status_code == 201
    vault = {"caption": "staging token", "entry_type": "api_key", "secret": SECRET}
    assert httpx.post(f"{url}/memory/vault", json=vault, headers=alice).status_code == 201
    sign_in(page, url, "alice")
    page.get(f"{url}/ui/#/memory")
    one(page, "#memory-list")
    query = one(page, "#memory-query")
    query.send_keys("when do releases go out?\n")
    wait(page, lambda d: "Releases go out on Thursdays" in one(d, "#memory-list").text)
    screenshot(page, "memory")
    choose(page, "#memory-kind", "vault")
    wait(page, lambda d: "staging token" in one(d, "#memory-list").text)
    assert SECRET not in page.page_source
    assert SECRET not in page.execute_script("return document.documentElement.outerHTML")
    accessible(page)

    choose(page, "#memory-add-kind", "semantic")
    body = one(page, "#memory-body")
    body.clear()
    body.send_keys('{"name": "added in the page", "summary": "from the browser"}')
    one(page, "form[aria-labelledby='memory-add-title'] button[type=submit]").click()
    card = wait(
        page,
        lambda d: next(
            (r for r in css(d, "article.record") if "added in the page" in r.text), None
        ),
    )
    record_id = card.get_attribute("data-record")
    assert httpx.get(f"{url}/memory/semantic/{record_id}", headers=alice).status_code == 200
    card.find_element("css selector", "button.delete").click()
    page.switch_to.alert.accept()
    wait(page, lambda d: not css(d, f"article[data-record='{record_id}']"))
    assert httpx.get(f"{url}/memory/semantic/{record_id}", headers=alice).status_code == 404
    assert len(console_errors(page)) == 0


def test_plugins_are_listed_and_only_admins_toggle_them(page: Any, url: str) -> None:
    sign_in(page, url, "bob")
    page.get(f"{url}/ui/#/plugins")
    row = one(page, "tr[data-plugin='text_stats']")
    assert "loaded" in row.text
    row.find_element("css selector", "button").click()
    wait(page, lambda d: "Only admins" in one(d, "p[role=status]").text)
    assert len(console_errors(page)) == 1  # the 403
    accessible(page)
    screenshot(page, "plugins")

    sign_in(page, url, "alice")
    page.get(f"{url}/ui/#/plugins")
    one(page, "tr[data-plugin='text_stats'] button").click()
    wait(page, lambda d: "disabled" in one(d, "tr[data-plugin='text_stats']").text)
    one(page, "tr[data-plugin='text_stats'] button").click()
    wait(page, lambda d: "loaded" in one(d, "tr[data-plugin='text_stats']").text)


def test_the_dark_theme_follows_the_system_setting_and_keeps_contrast(page: Any, url: str) -> None:
    thread_id = _agent_thread(url)
    sign_in(page, url, "alice")
    color_scheme(page, "dark")
    try:
        page.get(f"{url}/ui/#/threads/{thread_id}")
        one(page, "details.step .chart")
        background = page.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"
        accessible(page)
        screenshot(page, "run-dark")
    finally:
        color_scheme(page, "light")
    page.refresh()
    one(page, "details.step .chart")
    assert page.execute_script("return getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)"
    )


def test_a_long_run_builds_only_the_steps_in_view(page: Any, url: str) -> None:
    alice = headers("alice")
    thread_id = httpx.post(
        f"{url}/threads", json={"metadata": {"graph_id": "agent"}}, headers=alice
    ).json()["thread_id"]
    steps = [
        {"id": i, "description": f"step {i}", "expected": "ok", "tool": "calculator"}
        | {"status": "done" if i < 150 else "pending"}
        for i in range(1, 201)
    ]
    simulations = [
        {
            "run": 1,
            "step_id": i,
            "simulated": True,
            "candidates": [
                {
                    "id": 0,
                    "tool": "calculator",
                    "args": {},
                    "rationale": "",
                    "side_effecting": False,
                }
            ],
            "predictions": [{"candidate_id": 0, "next_state": f"state after {i}"}],
            "scores": [{"candidate_id": 0, "score": 0.8, "reason": "ok"}],
            "chosen_id": 0,
            "outcome": "execute",
        }
        for i in range(1, 151)
    ]
    values = {"goal": "a long plan", "run": 1, "plan": steps, "current_step": 149}
    values |= {"status": "running", "simulations": simulations}
    made = httpx.post(
        f"{url}/threads/{thread_id}/state",
        json={"values": values, "as_node": "plan"},
        headers=alice,
    )
    assert made.status_code == 200, made.text
    sign_in(page, url, "alice")
    page.get(f"{url}/ui/#/threads/{thread_id}")
    one(page, "details.step[data-step='150'] .chart")
    assert len(css(page, "details.step")) == 200
    # Only the current step is open and built; the other 199 are summaries until opened.
    assert len(css(page, "details.step[open]")) == 1
    assert len(css(page, ".step-body .simulation")) == 1
    one(page, "details.step[data-step='3'] summary").click()
    wait(page, lambda d: "state after 3" in one(d, "details.step[data-step='3']").text)
    assert len(css(page, ".step-body .simulation")) == 2


def test_a_run_can_be_started_and_read_with_the_keyboard_alone(page: Any, url: str) -> None:
    from selenium.webdriver.common.keys import Keys

    sign_in(page, url, "alice")
    graph = one(page, "#run-graph")
    graph.send_keys("agent")  # a focused <select> picks the option typed
    wait(page, lambda d: css(d, "#in-goal") and css(d, "#ctx-mode"))
    goal = one(page, "#in-goal")
    goal.send_keys("compute 17*23+9")
    goal.send_keys(Keys.TAB)  # to "Run options"
    page.switch_to.active_element.send_keys(Keys.TAB)  # to "Start run"
    start = page.switch_to.active_element
    assert start.text == "Start run"
    start.send_keys(Keys.ENTER)
    one(page, ".answer")
    summary = one(page, "details.step[data-step='2'] summary")
    summary.send_keys(Keys.ENTER)  # close the step from the keyboard
    wait(page, lambda d: css(d, "details.step[data-step='2']:not([open])"))
    summary.send_keys(Keys.ENTER)
    wait(page, lambda d: "391+9" in one(d, "details.step[data-step='2']").text)


def test_a_rejection_from_the_page_is_recorded_and_the_agent_plans_again(
    page: Any, url: str
) -> None:
    sign_in(page, url, "alice")
    thread_id = start_from_form(page, "risky", "save the greeting", on_risk="human")
    wait(page, lambda d: "Approval needed" in one(d, "section.interrupt").text)
    one(page, "#approval-note").send_keys("not that file")
    one(page, "button.reject").click()
    # The scripted planner proposes another plan with the same risky tool: the prompt comes back.
    wait(page, lambda d: css(d, "section.interrupt") and css(d, ".run-status"))
    wait(
        page,
        lambda d: (
            httpx.get(f"{url}/threads/{thread_id}", headers=headers("alice")).json()["status"]
            == "interrupted"
            and "Approval needed" in one(d, "section.interrupt").text
        ),
    )
    state = httpx.get(f"{url}/threads/{thread_id}/state", headers=headers("alice")).json()
    values = state["values"]
    assert values["counters"]["replans"] == 1
    assert "A human rejected write_file" in values["critique"]
    assert "not that file" in values["critique"]


def test_without_auth_the_page_opens_without_signing_in(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = tmp_path_factory.mktemp("web-ui-open")
    with http_server(server_env(data, server__auth="none")) as record:
        open_url = str(record["url"])
        thread = httpx.post(f"{open_url}/threads", json={}).json()
        httpx.post(
            f"{open_url}/threads/{thread['thread_id']}/runs/wait",
            json={
                "assistant_id": "chat",
                "input": {"messages": [{"type": "human", "content": "hi"}]},
            },
        ).raise_for_status()
        console_errors(browser)
        requested_urls(browser)
        browser.get(f"{open_url}/ui/")
        one(browser, f"tr[data-thread='{thread['thread_id']}']")
        assert not css(browser, "#api-key")
        assert not one(browser, "#sign-out").is_displayed()
        assert console_errors(browser) == []
        assert foreign(requested_urls(browser), open_url) == []
