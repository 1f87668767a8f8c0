"""`prefetch` converts too: every model that will run on a converted copy gets it built now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def convert_models(settings: Settings) -> Iterator[tuple[str, str, str]]:
    """(task key, model, outcome) for each model RUNTIME puts on CTranslate2 or ONNX Runtime.

    A conversion that fails is reported, not fatal: that model will run on torch.
    """
    from bot.engine.loading import resolve_device
    from bot.engine.registry import TASK_KEYS, create_task, model_id
    from bot.engine.runtimes import TORCH, converted_folder, plan_from_settings, prepare

    device = resolve_device(settings.device)
    for key in TASK_KEYS:
        task = create_task(key)
        plan = plan_from_settings(settings, key, task, device)
        if plan.name == TORCH:
            continue
        model = model_id(key, settings.model_for(key))
        cached = converted_folder(plan, model)
        try:
            folder = cached or prepare(plan, task, model)
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [""])[0][:160]
            yield key, model, f"{plan.label} failed, runs on torch: {type(exc).__name__}: {reason}"
            continue
        yield key, model, f"{plan.label} {'cached' if cached else 'converted'}: {folder}"
