"""Chapters 8-14: the statements issue 12 fixed stay fixed, the model's narration follows the language,
and the predictions behind the chapters give the answers Xen 3.0 would.

Oracles: Xen 3.0's sources (blkback's make_response writes at rsp_prod_pvt; XendCheckpoint.save ends
with destroyDomain(); set_time_scale keeps the shifted frequency in (1 GHz, 2 GHz]), the SOSP'03 paper
(Table 3: UML's null call 24.7 us), and hand-worked ring arithmetic.
"""
import re
from pathlib import Path

import pytest

from xenlab import i18n
from xenlab import predictions_08_14 as P
from xenlab.coursebuild import parse
from xenlab.i18n import set_language

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def restore_language():
    saved = i18n._explicit
    yield
    i18n._explicit = saved


def prose(name: str, lang: str) -> str:
    text = " ".join(b.text for b in parse(ROOT / "course" / f"{name}.md").blocks if b.kind == lang)
    return re.sub(r"\s+", " ", text)


# -- the prose ------------------------------------------------------------------------------------------
def test_08_wall_clock_is_an_offset_to_system_time():
    assert "czasu rzeczywistego (systemowego)" not in prose("08_time", "pl")
    assert "względem czasu systemowego" in prose("08_time", "pl")
    assert "real (system) time" not in prose("08_time", "en")


@pytest.mark.parametrize("lang, wrong", [("pl", "odpowiedź z `id` żądania w miejsce tego żądania"),
                                       ("en", "answers in the request's slot")])
def test_10_responses_go_at_rsp_prod_pvt(lang, wrong):
    text = prose("10_block_devices", lang)
    assert wrong not in text and "rsp_prod_pvt" in text and "make_response" in text


def test_09_responses_do_not_claim_their_requests_slots():
    assert "back into the same slots" not in prose("09_rings", "en")
    assert "odkłada w te same miejsca" not in prose("09_rings", "pl")


def test_11_arp_cache_in_polish():
    text = prose("11_network", "pl")
    assert "pamięci podręcznej ARP" in text and "w pamięci ARP" not in text


@pytest.mark.parametrize("lang, bt", [("pl", "translacja binarna"), ("en", "binary translation")])
def test_12_says_how_vmware_and_uml_worked(lang, bt):
    text = prose("12_performance", lang)
    assert bt in text and "ptrace" in text
    assert "skąd bierze się różnica między X a V" not in text
    assert "where the difference between X and V comes from" not in text


@pytest.mark.parametrize("lang, word", [("pl", "niszczy"), ("en", "destroys")])
def test_14_says_save_destroys_the_domain(lang, word):
    text = prose("14_migration", lang)
    assert word in text and "destroyDomain()" in text


# -- the model's narration in both languages ---------------------------------------------------------------
def test_ring_narration_follows_the_language():
    from xenlab.viz.ring import RingLab
    said = {}
    for lang in ("pl", "en"):
        set_language(lang)
        lab = RingLab(8)
        said[lang] = [lab.step(s) for s in ("produce", "produce", "push", "consume", "consume",
                                            "respond", "bpush", "gconsume", "gfinal", "bfinal")]
    assert said["en"][5] == "back end wrote the response to request 1 at rsp_prod_pvt=0 (slot 0)"
    assert said["pl"][5] == "część zaplecza wpisała odpowiedź na żądanie 1 pod rsp_prod_pvt=0 (miejsce 0)"
    assert said["pl"][2].endswith("ZDARZENIE wysłane") and said["en"][2].endswith("EVENT sent")
    assert not any(re.search(r"\b(guest|back end|request|response)\b", s) for s in said["pl"])


def test_ringlab_response_carries_its_requests_id():
    from xenlab.viz.ring import RingLab
    lab = RingLab(8)
    for s in ("produce", "produce", "push", "consume", "consume", "respond", "respond", "bpush"):
        lab.step(s)
    assert [lab.front.consume_response().id, lab.front.consume_response().id] == [1, 2]


def test_precopy_reasons_have_texts_in_both_languages():
    from xenlab.toolstack.migrate import stop_reason_text
    for reason in ("rate", "iterations", "few pages", "factor", "not live", "stop rule"):
        set_language("pl")
        pl = stop_reason_text(reason)
        set_language("en")
        en = stop_reason_text(reason)
        assert pl != en and "narration." not in pl + en, reason


# -- the predictions' answers --------------------------------------------------------------------------------
def test_paused_domain_only_virtual_time_stops():
    r = P.paused_clocks(150)
    assert r["answer"] == "virtual" and r["system_ms"] == 150 and r["virtual_ms"] == 0


@pytest.mark.parametrize("mhz, shift", [(800, 1), (1000, 1), (1500, 0), (2000, 0), (2394, -1), (4200, -2)])
def test_tsc_shift_puts_the_frequency_in_1_to_2_ghz(mhz, shift):
    assert P.tsc_shift(mhz)["answer"] == shift
    assert 1000 < mhz * 2.0 ** shift <= 2000


def test_guest_time_is_base_plus_scaled_ticks():
    r = P.guest_system_time(2000, 2_000_000)            # 2,000,000 ticks at 2 GHz: 1 ms
    assert abs(r["answer"] - (1_000_000_000 + 1_000_000)) <= 1


def test_ring_predictions_against_hand_worked_examples():
    # free = size - (req_prod_pvt - rsp_cons): 8 - (6 - 2)
    assert P.ring_free_slots(8, 6, 4, 3, 2)["answer"] == 4
    # a fresh ring (req_event 1): the first push notifies; a second push before the back end re-arms does not
    assert P.ring_push_notifies(["produce", "push", "produce", "push"])["answer"] == "no"
    assert P.ring_push_notifies(["produce", "push", "consume", "bfinal", "produce", "push"])["answer"] == "yes"
    assert P.ring_slot_after_wrap(32, 2**32 - 3)["answer"] == 29


def test_every_students_ring_sequence_is_well_formed():
    answers = set()
    for seed in range(64):
        steps = P.ring_steps(seed)
        assert steps[-2:] == ["produce", "push"]
        answers.add(P.ring_push_notifies(steps)["answer"])
    assert answers == {"yes", "no"}                   # students get both kinds of question


def test_block_predictions():
    assert [P.blk_requests_for_write(n)["answer"] for n in (88, 89, 177)] == [1, 2, 3]   # 11 segments x 8
    order = (700, 20, 300)
    r = P.blk_reorder(order)
    assert r["order"] == [20, 300, 700] and r["answer"] == 20
    # the read of sector 700 went into slot 0 and its response lands where rsp_prod_pvt pointed: slot 2
    assert r["req_slot"][700] == 0 and r["rsp_slot"][700] == 2
    for seed in (0, 1, 77, 2**31 + 5):
        o = P.blk_order_for(seed)
        assert len(set(o)) == 3 and o[0] != min(o)     # FIFO and the elevator give different answers


def test_network_predictions():
    assert P.tx_frames_for_pings(2)["answer"] == 3      # one ARP request, then an echo request per ping
    assert P.flipped_page_owner()["answer"] == "beta"
    r = P.rx_requests_after(3)
    assert r["answer"] == r["before"]


def test_null_call_and_scores_from_the_paper():
    r = P.slowest_null_call()
    assert r["answer"] == "U" and r["us"] == 24.7
    assert P.relative_score("OSDB-OLTP", "V")["answer"] == 12          # 199 / 1714


def test_toolstack_predictions():
    assert P.id_after_reboot(2) == {"answer": 4, "old": 3}
    assert P.running_letters(1, 3)["answer"] == 1 and P.running_letters(2, 3)["answer"] == 2
    assert P.after_save()["answer"] == "gone"
    assert P.id_after_restore(1) == {"answer": 3, "old": 2}


# -- Polish notebooks: no English narration in their compared outputs ------------------------------------------
CHAPTERS = ["08_time", "09_rings", "10_block_devices", "11_network", "12_performance",
            "13_domain_management", "14_migration"]


def english_narration_fragments() -> set:
    """The fixed words of every English narration message (the text between its placeholders)."""
    import string

    from xenlab.i18n.catalogues import narration
    frags = set()
    for value in narration.EN.values():
        for text in (value.values() if isinstance(value, dict) else [value]):
            for literal, *_ in string.Formatter().parse(text):
                for frag in re.split(r"\S*[_=]\S*", literal):         # words, not Xen's identifiers
                    frag = frag.strip(" ,:()")
                    if " " in frag:
                        frags.add(frag)
    return frags


@pytest.mark.parametrize("name", CHAPTERS)
def test_polish_outputs_carry_no_english_narration(name):
    frags = english_narration_fragments()
    assert "back end took request" in frags and "pages, downtime" in frags   # the oracle is not empty
    shown = [b.text for b in parse(ROOT / "course" / f"{name}.md").blocks
             if b.kind in ("output", "result") and (not b.options or "pl" in b.options)]
    leaked = sorted(f for f in frags for text in shown if f in text)
    assert not leaked, f"{name}: English narration in the Polish notebook's outputs: {leaked}"
