"""Files in and out, without torch: images (:mod:`~adain.io.images`: reading any input kind, the one
resize, saving), the one atomic writer (:mod:`~adain.io.atomic`) and input discovery
(:mod:`~adain.io.files`)."""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "atomic": "atomic_path atomic_write check_writable ensure_new remove_stale_parts",
    "files": "VIDEO_EXTENSIONS is_video list_images",
    "images": (
        "DEFAULT_MAX_PIXELS IMAGE_EXTENSIONS MAX_SIZE ImageLike is_tensor label_map_to_masks load_image pil_to_array "
        "pil_to_tensor probe_size read_image read_image_u8 resize_array resize_image resized_shape save_image "
        "tensor_to_pil to_array to_mask to_pil"
    ),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
