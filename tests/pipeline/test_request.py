"""The one stylization request: checked when made, the same result given as an object or as
keyword arguments, and the video options checked the same way."""

from __future__ import annotations

import numpy as np
import pytest

from adain.errors import UsageError
from adain.pipeline.core import Pipeline
from adain.pipeline.request import StylizeRequest


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"preserve_color": "sepia"}, "preserve_color"),
        ({"tile": -3}, "tile"),
        ({"stroke_scale": 0.0}, "stroke"),
        ({"masks": ["m.png"], "tile": 256}, "masks and tiling"),
        ({"masks": ["m.png"], "weights": [1.0]}, "style weights"),
        ({"grid": "mosaic"}, "grid must be alpha, blend or styles"),
        ({"grid": "alpha", "masks": ["m.png"]}, "--grid cannot be combined with masks"),
        ({"grid": "styles", "weights": [1.0, 2.0]}, "--grid cannot be combined"),
    ],
)
def test_a_request_is_checked_when_made(fields, words):
    with pytest.raises(UsageError, match=words):
        StylizeRequest(**fields)


def test_make_changes_fields_and_refuses_unknown_names():
    base = StylizeRequest(alpha=0.5, content_size=256)
    changed = StylizeRequest.make(base, crop=True)
    assert (changed.alpha, changed.content_size, changed.crop) == (0.5, 256, True) and not base.crop
    assert StylizeRequest.make(None) == StylizeRequest()
    with pytest.raises(UsageError, match="alpah"):
        StylizeRequest.make(base, alpah=1.0)
    with pytest.raises(UsageError, match="alpha"):
        StylizeRequest.make(base, alpha=-1)  # the checks run on the changed request too


def test_styles_are_checked_against_the_request():
    req = StylizeRequest(weights=[0.5, 0.5])
    assert req.styles_of(["a.jpg", "b.jpg"]) == ["a.jpg", "b.jpg"]
    with pytest.raises(UsageError):
        req.styles_of("a.jpg")  # two weights, one style
    with pytest.raises(UsageError, match="--grid blend needs exactly 4 styles, got 3"):
        StylizeRequest(grid="blend").styles_of(["a.jpg", "b.jpg", "c.jpg"])
    assert len(StylizeRequest(grid="blend").styles_of(list("abcd"))) == 4
    with pytest.raises(UsageError, match="at least one style"):
        StylizeRequest().styles_of([])


def test_a_request_object_and_keyword_arguments_give_the_same_image():
    pipe = Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)
    rng = np.random.default_rng(0)
    c, s1, s2 = (rng.random((3, 40, 48), dtype=np.float32) for _ in range(3))
    s2 = s2 * np.array([1.0, 0.3, 0.1], np.float32)[:, None, None]  # a red one
    req = StylizeRequest(alpha=0.6, weights=[0.3, 0.7], content_size=0, style_size=0, preserve_color="luminance")
    by_object = pipe.stylize(c, [s1, s2], req)
    by_keywords = pipe.stylize(
        c, [s1, s2], alpha=0.6, weights=[0.3, 0.7], content_size=0, style_size=0, preserve_color="luminance"
    )
    np.testing.assert_array_equal(by_object, by_keywords)
    plain = StylizeRequest(alpha=0.6, content_size=0, style_size=0)
    changed = pipe.stylize(c, s1, plain, alpha=0.2)  # a keyword changes the given request's field
    np.testing.assert_array_equal(changed, pipe.stylize(c, s1, alpha=0.2, content_size=0, style_size=0))
    assert np.abs(changed - pipe.stylize(c, s1, plain)).mean() > 1e-4


def test_video_options_are_checked_when_made():
    from adain.methods.video import VideoOptions

    with pytest.raises(UsageError, match="temporal"):
        VideoOptions(temporal="sometimes")
    with pytest.raises(UsageError, match="smoothing"):
        VideoOptions(temporal_smoothing=1.0)
    with pytest.raises(UsageError, match="luminance"):
        VideoOptions(preserve_color="coral")
    with pytest.raises(UsageError, match="alpha"):
        VideoOptions(alpha=2.0)
