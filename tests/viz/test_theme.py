"""The theme gives each concept its own colour: views that share it cannot confuse two concepts."""
from xenlab.viz import theme


def test_ring_regions_are_four_distinct_colours():
    assert len(set(theme.RING_REGIONS)) == 4


def test_domain_colours_distinct_for_the_first_nine_domains_and_dom0_is_orange():
    colours = theme.domain_colours(range(9))
    assert colours[0] == theme.DOM0
    assert len(set(colours)) == 9


def test_four_clocks_distinct():
    assert len({theme.CLOCK_TSC, theme.CLOCK_SYSTEM, theme.CLOCK_VIRTUAL, theme.CLOCK_WALL}) == 4


def test_legend_html_names_every_item():
    html = theme.legend_html([("kolejka żądań", theme.RING_REQUEST), ("wolne", theme.RING_UNUSED)])
    assert "kolejka żądań" in html and theme.RING_REQUEST in html and "wolne" in html
