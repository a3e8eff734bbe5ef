"""What every visitor meets: errors keep the area's menu, the home page shows customers
only their own links, and the favicon exists."""

from conftest import Desk, agent_client, customer_client


async def test_a_404_inside_the_console_keeps_the_console_menu(desk: Desk) -> None:
    agent = await agent_client(desk)
    for path in ("/console/tickets/KF-NOPE-NOPE-NOPE", "/console/no-such-page"):
        page = await agent.get(path)
        assert page.status_code == 404, path
        assert 'href="/console/account"' in page.text and "Log out" in page.text
        assert 'href="/portal/tickets/new"' not in page.text  # not the customer's menu
    chinese = await agent.get("/console/no-such-page", params={"lang": "zh-CN"})
    assert "未找到" in chinese.text or "找不到" in chinese.text


async def test_a_404_elsewhere_is_a_page_for_people_and_json_for_programs(desk: Desk) -> None:
    client = await customer_client(desk)
    page = await client.get("/portal/nothing-here")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'href="/portal/tickets/new"' in page.text
    api = await client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


async def test_the_home_page_shows_visitors_no_staff_links(desk: Desk) -> None:
    for client in (desk.client(), await customer_client(desk)):
        page = (await client.get("/")).text
        for staff in ('href="/console"', 'href="/admin"', 'href="/docs"'):
            assert staff not in page
        assert 'href="/portal/tickets/new"' in page


async def test_every_page_has_a_favicon(desk: Desk) -> None:
    client = desk.client()
    home = (await client.get("/")).text
    assert '<link rel="icon" href="/static/favicon.svg"' in home
    for path in ("/static/favicon.svg", "/favicon.ico"):
        icon = await client.get(path)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
        assert icon.text.startswith("<svg")
