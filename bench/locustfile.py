"""The mix bench/load.py sends (locust): demo users log in through the form, then browse (catalogue, offer
pages, surplus list, device list, tenders, dashboard), search, request reuse devices and take part in
group orders. Each request is named by its page type, so the figures are per type.

Run by bench/load.py (it starts the server); by hand: `locust -f bench/locustfile.py --host URL`.
"""
from __future__ import annotations

import random
import re

from locust import HttpUser, between, task

from bench.serve import csrf_token, send_secure_cookies

PASSWORD = "circuit-demo-2026"
OFFICERS = ["achats@gosb.example", "achats.94081@ville.example", "achats.94041@ville.example",
            "achats.94054@ville.example", "achats@sipperec.example", "achats@siim94.example"]
IT_MANAGERS = ["dsi@gosb.example", "dsi.94081@ville.example", "dsi.94041@ville.example", "dsi.94054@ville.example"]
BENEFICIARIES = ["college@beneficiaire.example", "ccas@beneficiaire.example", "connect@beneficiaire.example",
                 "fcpe@beneficiaire.example"]
SUPPLIERS = ["ans@fournisseur.example", "rii@fournisseur.example", "esat@fournisseur.example",
             "athis@fournisseur.example"]
SEARCHES = ["ordinateur portable", "ecran", "dell latitude", "tablette", "lenovo thinkpad", "reconditionne",
            "Vitry", "marche ordinateurs", "clavier", "imprimante"]


def links(html: str, pattern: str) -> list[str]:
    return sorted(set(re.findall(pattern, html)))


class CircuitUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    accounts: list[str] = []

    def on_start(self) -> None:
        send_secure_cookies(self.client)
        self.email = random.choice(self.accounts)
        form = self.client.get("/login", name="login form")
        with self.client.post("/login", name="login", allow_redirects=False, catch_response=True,
                              data={"email": self.email, "password": PASSWORD,
                                    "csrf_token": csrf_token(form.text)}) as answer:
            if answer.status_code != 302:
                answer.failure(f"login of {self.email} answered {answer.status_code}")

    def page(self, path: str, name: str) -> str:
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200 or "/login" in answer.url:
                answer.failure(f"{path} answered {answer.status_code} at {answer.url}")
            return answer.text or ""


class Browser(CircuitUser):
    """Reads the platform: any role but the administrator."""
    weight = 6
    accounts = OFFICERS + IT_MANAGERS + BENEFICIARIES + SUPPLIERS

    @task(3)
    def catalogue(self) -> None:
        html = self.page(f"/marketplace/catalogue?page={random.randint(1, 5)}", "catalogue")
        offers = links(html, r'href="/marketplace/catalogue/(\d+)"')
        if offers:
            self.page(f"/marketplace/catalogue/{random.choice(offers)}", "catalogue offer")

    @task(2)
    def surplus(self) -> None:
        if self.email in SUPPLIERS:  # suppliers take no part in reuse
            return
        html = self.page("/reuse/offers", "reuse offers")
        offers = links(html, r'href="/reuse/offers/(\d+)"')
        if offers:
            self.page(f"/reuse/offers/{random.choice(offers)}", "reuse offer")

    @task(2)
    def devices(self) -> None:
        if self.email in IT_MANAGERS:
            self.page(f"/reuse/devices?page={random.randint(1, 5)}", "device list")

    @task(2)
    def tenders(self) -> None:
        html = self.page("/procurement/tenders", "tenders")
        tenders = links(html, r'href="/procurement/tenders/(\d+)"')
        if tenders:
            self.page(f"/procurement/tenders/{random.choice(tenders)}", "tender")

    @task(2)
    def dashboard(self) -> None:
        self.page("/dashboard", "dashboard")

    @task(2)
    def search(self) -> None:
        self.page(f"/search?q={random.choice(SEARCHES)}", "search")


class Requester(CircuitUser):
    """A school, an association or a commune's IT manager asks for a unit of an open reuse offer."""
    weight = 2
    accounts = BENEFICIARIES + IT_MANAGERS

    @task
    def request_devices(self) -> None:
        html = self.page("/reuse/offers", "reuse offers")
        offers = links(html, r'href="/reuse/offers/(\d+)"')
        if not offers:
            return
        offer_id = random.choice(offers)
        html = self.page(f"/reuse/offers/{offer_id}", "reuse offer")
        if f'action="/reuse/offers/{offer_id}/requests"' not in html:
            return  # not eligible, or already asked: the page offers no form
        with self.client.post(f"/reuse/offers/{offer_id}/requests", name="reuse request",
                              allow_redirects=False, catch_response=True,
                              data={"csrf_token": csrf_token(html), "quantity": "1",
                                    "purpose": "Équiper la salle informatique (test de charge)"}) as answer:
            # 302: sent; 409: a rule refused it (the last unit went to someone else): an answer, not an error.
            if answer.status_code in (302, 409):
                answer.success()
            else:
                answer.failure(f"request answered {answer.status_code}")


class Participant(CircuitUser):
    """A procurement officer states its need in an open group order."""
    weight = 2
    accounts = OFFICERS

    @task
    def participate(self) -> None:
        html = self.page("/marketplace/campaigns", "campaigns")
        campaigns = links(html, r'href="/marketplace/campaigns/(\d+)"')
        if not campaigns:
            return
        html = self.page(f"/marketplace/campaigns/{random.choice(campaigns)}", "campaign")
        actions = links(html, r'action="(/marketplace/campaigns/\d+/lines/\d+/participation)"')
        sites = re.findall(r'<option[^>]*value="(\d+)"', html.split('name="site_id"', 1)[-1])
        if not actions or not sites:
            return  # frozen, or not open to this organisation
        # Redirects are followed by hand: requests re-sends a redirect with its jar's cookies, not ours.
        with self.client.post(random.choice(actions), name="participation", allow_redirects=False,
                              catch_response=True, data={"csrf_token": csrf_token(html), "site_id": sites[0],
                                                         "quantity": str(random.randint(1, 20))}) as answer:
            if answer.status_code != 302:
                answer.failure(f"participation answered {answer.status_code}")
                return
        with self.client.get(answer.headers["Location"], name="campaign", catch_response=True) as page:
            if page.status_code != 200 or 'class="flash flash-success' not in page.text:
                page.failure("the campaign page shows no confirmation of the need")
