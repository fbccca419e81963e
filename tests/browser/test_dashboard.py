"""The dashboard at /__admin/ui in a real headless Chromium against a real mock process:
log in, a POST appears live and opens to its body and reply, a scenario armed through the
form (its errors inline) makes the next request fail as armed, a task finishes and its video
plays, a prompt of HTML stays text, a wrong key and a cross-site form post are refused.
Each test writes a screenshot of its view to build/dashboard/."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN_KEY, OTHER_KEY, SHOTS
from tests.helpers import Receiver, new_task
from tests.hostile.harness import KEY, MockProcess

pytestmark = pytest.mark.slow
XSS = "<img src=x onerror=alert(1)>"


def wait(driver: Any, check: Callable[[], Any], timeout: float = 20) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a view re-rendered between finding an element and reading it: look again
    return WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    ).until(lambda _: check())


def click(driver: Any, selector: str) -> None:
    """Click the element ``selector`` names as it is now (views re-render their rows)."""
    wait(
        driver,
        lambda: driver.execute_script(
            "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e", selector
        ),
    )


def by_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def text(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById('{element_id}').textContent"))


def text_of(driver: Any, selector: str) -> str:
    """The text of the first element ``selector`` names now ("" when there is none)."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", selector
    )
    return str(found)


def shot(driver: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def login(driver: Any, mock: MockProcess, key: str = ADMIN_KEY) -> None:
    driver.get(f"{mock.base_url}/__admin/ui")
    wait(driver, lambda: by_css(driver, "#login:not([hidden])"))
    by_css(driver, "#login-key")[0].send_keys(key)
    by_css(driver, "#login-submit")[0].click()


def logged_in(driver: Any, mock: MockProcess) -> None:
    login(driver, mock)
    wait(driver, lambda: by_css(driver, "#nav:not([hidden])"))
    wait(driver, lambda: text(driver, "live") == "live")


def view(driver: Any, name: str) -> None:
    by_css(driver, f"#nav button[data-view={name}]")[0].click()
    wait(driver, lambda: by_css(driver, f"#view-{name}:not([hidden])"))


def request_row(driver: Any, task_uuid: str) -> Any:
    """The requests view's row of ``task_uuid``, once the live stream has brought it."""
    rows = "#requests-body tr.request-row"
    return wait(driver, lambda: [r for r in by_css(driver, rows) if task_uuid in r.text])[0]


def post(mock: MockProcess, task: dict[str, Any], key: str = KEY) -> httpx.Response:
    return httpx.post(mock.url, json=[task], headers={"Authorization": f"Bearer {key}"}, timeout=30)


def no_alert(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert.text  # noqa: B018
    except NoAlertPresentException:
        return True
    return False


def test_login_then_a_post_appears_live_and_opens_to_its_body_and_reply(
    browser: Any, dashboard_mock: MockProcess
) -> None:
    logged_in(browser, dashboard_mock)
    task = new_task()
    assert post(dashboard_mock, task).status_code == 200
    # no reload: the live stream brings the row
    row = request_row(browser, task["taskUUID"])
    assert "rest" in row.text and "200" in row.text and "videoInference" in row.text
    row.click()
    wait(browser, lambda: task["taskUUID"] in text(browser, "request-body"))
    body = json.loads(text(browser, "request-body"))
    reply = json.loads(text(browser, "request-reply"))
    assert body[0]["positivePrompt"] == task["positivePrompt"]
    assert reply == {"data": [{"taskType": "videoInference", "taskUUID": task["taskUUID"]}]}
    shot(browser, "requests")


def test_a_scenario_armed_through_the_form_fails_the_next_request(
    browser: Any, dashboard_mock: MockProcess
) -> None:
    logged_in(browser, dashboard_mock)
    view(browser, "scenarios")
    form = by_css(browser, "#scenario-form")[0]
    from selenium.webdriver.support.ui import Select

    Select(by_css(browser, "#scenario-action")[0]).select_by_value("respond")
    status = form.find_element("name", "respond.status")
    status.send_keys("700")  # out of range: refused, the message beside the field
    form.find_element("name", "times").send_keys("1")
    by_css(browser, "#scenario-submit")[0].click()
    inline = 'span.field-error[data-for="respond.status"]'
    wait(browser, lambda: "400 to 599" in text_of(browser, inline))
    assert by_css(browser, "#scenarios-body tr") == []
    shot(browser, "scenarios-error")
    status.clear()
    status.send_keys("503")
    form.find_element("name", "respond.code").send_keys("providerInternalError")
    form.find_element("name", "respond.message").send_keys("armed from the dashboard")
    by_css(browser, "#scenario-submit")[0].click()
    wait(browser, lambda: by_css(browser, "#scenarios-body tr.scenario-row"))
    assert text_of(browser, inline) == ""
    shot(browser, "scenarios")

    failed = post(dashboard_mock, new_task())
    assert failed.status_code == 503
    assert failed.json()["errors"][0]["message"] == "armed from the dashboard"
    view(browser, "requests")
    row = wait(
        browser,
        lambda: [r for r in by_css(browser, "#requests-body tr.request-row") if "503" in r.text],
    )[0]
    assert "providerInternalError" in row.text and "armed from the dashboard" in row.text
    assert post(dashboard_mock, new_task()).status_code == 200  # times: 1
    view(browser, "scenarios")
    used = "#scenarios-body tr.scenario-row td:nth-child(5)"
    wait(browser, lambda: text_of(browser, used) == "1")
    click(browser, "#scenarios-body button.remove")
    wait(browser, lambda: by_css(browser, "#scenarios-body tr") == [])
    assert dashboard_mock.client.get(
        "/__admin/scenarios", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    ).json() == {"scenarios": []}


def test_a_task_finishes_and_its_video_plays(browser: Any, dashboard_mock: MockProcess) -> None:
    logged_in(browser, dashboard_mock)
    view(browser, "tasks")
    with Receiver() as receiver:
        task = new_task(outputFormat="WEBM", duration=3, webhookURL=receiver.hook, includeCost=True)
        assert post(dashboard_mock, task).status_code == 200
        selector = f'#tasks-body tr.task-row[data-uuid="{task["taskUUID"]}"]'
        wait(browser, lambda: "processing" in text_of(browser, selector))  # 4 s jobs
        click(browser, selector)
        wait(browser, lambda: "processing" in text(browser, "task-title"))
        wait(browser, lambda: "done" in text(browser, "task-title"), timeout=30)
        video = wait(browser, lambda: by_css(browser, "#task-media video.result-media"))[0]
        played = wait(
            browser,
            lambda: browser.execute_script(
                "const v = arguments[0]; return v.readyState >= 2 && v.videoWidth > 0 && "
                "v.currentTime > 0 && !v.error && [v.videoWidth, v.videoHeight]",
                video,
            ),
            timeout=30,
        )
        assert played == [task["width"], task["height"]]
        receiver.wait_for(1)
        wait(browser, lambda: "delivered" in text(browser, "task-deliveries"))
        events = text(browser, "task-events")
        assert "accepted" in events and "done" in events
        wait(browser, lambda: "$" in text_of(browser, selector))  # includeCost: its price
        shot(browser, "tasks")
        view(browser, "deliveries")
        wait(browser, lambda: task["taskUUID"] in text(browser, "attempts-body"))
        assert task["taskUUID"] in text(browser, "outcomes-body")
        shot(browser, "deliveries")


def test_a_prompt_of_html_stays_text(browser: Any, dashboard_mock: MockProcess) -> None:
    logged_in(browser, dashboard_mock)
    task = new_task(positivePrompt=XSS)
    assert post(dashboard_mock, task).status_code == 200
    # a scenario's match is shown too: armed with the same text
    armed = dashboard_mock.client.post(
        "/__admin/scenarios",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        json={"match": {"promptContains": XSS}, "latency": {"fixedMs": 1}},
    )
    assert armed.status_code == 201
    row = request_row(browser, task["taskUUID"])
    row.click()
    wait(browser, lambda: XSS in text(browser, "request-body"))
    view(browser, "scenarios")
    wait(browser, lambda: XSS in text(browser, "scenarios-body"))
    assert by_css(browser, "img[src='x']") == [] and by_css(browser, "main img") == []
    assert no_alert(browser)
    assert browser.execute_script("return typeof window.alerted") == "undefined"
    view(browser, "requests")
    shot(browser, "xss-inert")
    dashboard_mock.client.delete(
        "/__admin/scenarios", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )


def test_a_wrong_key_and_another_tenants_key_are_refused(
    browser: Any, dashboard_mock: MockProcess
) -> None:
    login(browser, dashboard_mock, "not-a-key")
    wait(browser, lambda: "invalidApiKey" in text(browser, "login-error"))
    assert by_css(browser, "#nav[hidden]") and by_css(browser, "#requests-body tr") == []
    login(browser, dashboard_mock, OTHER_KEY)  # valid on /v1, not the admin key
    wait(browser, lambda: "forbidden" in text(browser, "login-error"))
    assert by_css(browser, "#nav[hidden]")
    shot(browser, "login-refused")
    # no session was made: the JSON views answer 401 to this browser
    browser.get(f"{dashboard_mock.base_url}/__admin/ui/api/requests")
    assert "missingApiKey" in browser.page_source
    with_key = httpx.get(
        f"{dashboard_mock.base_url}/__admin/ui/api/tasks",
        headers={"Authorization": f"Bearer {OTHER_KEY}"},
    )
    assert with_key.status_code == 403 and "tasks" not in with_key.json()


class Attacker:
    """A page on another origin (another port: the same site, so a SameSite cookie goes
    along) that posts a form to the mock's admin API as soon as it loads: text/plain,
    shaped so the body is a valid scenario."""

    def __init__(self, target: str) -> None:
        page = (
            "<!doctype html><form id=f method=POST enctype=text/plain "
            f'action="{target}/__admin/scenarios">'
            '<input type=hidden name=\'{"respond":{"status":503,"message":"\' '
            "value='\"}}'></form><script>document.getElementById('f').submit()</script>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Attacker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def attacker(dashboard_mock: MockProcess) -> Iterator[Attacker]:
    with Attacker(dashboard_mock.base_url) as page:
        yield page


def test_a_cross_site_form_post_is_refused(
    browser: Any, dashboard_mock: MockProcess, attacker: Attacker
) -> None:
    logged_in(browser, dashboard_mock)  # the session cookie is set
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    browser.get(attacker.url)
    wait(browser, lambda: "forbidden" in browser.page_source)
    assert "CSRF" in browser.page_source
    assert dashboard_mock.client.get("/__admin/scenarios", headers=admin).json() == {
        "scenarios": []
    }
    # the same body with the session's own token (what the page sends) is armed: the
    # refusal above was the missing token, not the body
    browser.get(f"{dashboard_mock.base_url}/__admin/ui")
    wait(browser, lambda: text(browser, "live") == "live")
    status = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/__admin/ui/api/session').then(r => r.json()).then(s => fetch("
        "'/__admin/scenarios', {method: 'POST', headers: {'X-CSRF-Token': s.csrf},"
        ' body: \'{"respond":{"status":503,"message":"="}}\'})).then(r => done(r.status))'
    )
    assert status == 201
    assert (
        len(dashboard_mock.client.get("/__admin/scenarios", headers=admin).json()["scenarios"]) == 1
    )
    dashboard_mock.client.delete("/__admin/scenarios", headers=admin)


def test_models_and_health_views(browser: Any, dashboard_mock: MockProcess) -> None:
    logged_in(browser, dashboard_mock)
    view(browser, "models")
    import runware_contract as rc

    model = rc.MODELS["klingai:kling-video@3-pro"]
    article = wait(
        browser, lambda: by_css(browser, 'article.model[data-model="klingai:kling-video@3-pro"]')
    )[0]
    assert "source: package" in article.text
    rates = model.tables.PRICING["rates"]
    assert str(rates[0]["perSecond"]) in article.text  # the price rows the validator prices by
    duration = next(p for p in model.tables.PARAMETERS if p["path"] == "duration")
    assert f'"maximum": {duration["maximum"]}'.replace('"', "") in article.text.replace('"', "")
    shot(browser, "models")
    view(browser, "health")
    wait(browser, lambda: "Event loop lag" in text(browser, "health"))
    wait(browser, lambda: text_of(browser, 'dd[data-key="Dashboard streams"]') == "1")
    assert text_of(browser, 'dd[data-key="Store kind"]') == "memory"
    shot(browser, "health")
