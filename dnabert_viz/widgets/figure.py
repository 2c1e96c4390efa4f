"""A plotly FigureWidget whose browser code goes to a page and loads there only once.

plotly 7's ``FigureWidget`` is an anywidget whose synced state carries
plotly's whole widget bundle (``widgetbundle.js``, several megabytes) as
its ``_esm``. Every figure then sends that bundle to the browser, and the
browser imports every copy as a module of its own. On a page reload
ipywidgets asks the kernel for all widget states in one reply (its
``CONTROL_COMM_TIMEOUT``, 4 s) and anywidget gives each model a fixed 2 s
to import and initialize its code (both constants of those libraries):
with four or five figures on a page (an explorer and an AttentionView) on
a loaded machine, some of them run out ("[anywidget] Failed to initialize
model") and their views never come back.

:class:`Figure` is a ``FigureWidget`` whose ``_esm`` is a few lines that
take plotly's bundle from one shared, invisible widget (:class:`PlotlyCode`,
one per kernel) and import it once per page (the module is kept on
``globalThis`` under the bundle's digest); each figure's model is ready as
soon as it exists, and its view waits for the shared module before it
draws. Its comm opens only once plotly has set the traces and layout (the
base class opens it before, and a view rendered in between stays empty).
Everything else (traces, layout, click callbacks, batch updates) is
plotly's own FigureWidget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import ipywidgets as W
import plotly.graph_objects as go
import traitlets

# How a widget's browser code imports a large module sent once per kernel by a holder widget
# (:class:`SharedCode`): its model names the holder (``_NAME_code``) and the code's digest
# (``_NAME_digest``); the module is imported once per page, kept on ``globalThis`` by digest.
SHARED_MODULE = """
async function sharedModule(model, name) {
  const digest = model.get(`_${name}_digest`);
  const cache = (globalThis.__dnabert_viz_modules ??= new Map());
  if (!cache.has(digest)) {
    cache.set(digest, (async () => {
      const id = model.get(`_${name}_code`).replace(/^IPY_MODEL_/, "");
      let holder;
      // a reload restores it alongside the widgets: wait until the manager knows it
      for (let waited = 0; !holder; waited += 50) {
        try {
          holder = await model.widget_manager.get_model(id);
        } catch (error) {
          if (waited > 60000) throw error;
          await new Promise(resolve => setTimeout(resolve, 50));
        }
      }
      const code = new Blob([holder.get("code")], {type: "text/javascript"});
      const url = URL.createObjectURL(code);
      try {
        return await import(/* webpackIgnore: true */ url);
      } finally {
        URL.revokeObjectURL(url);
      }
    })().catch(error => {
      cache.delete(digest);  // the next widget tries again
      throw error;
    }));
  }
  return cache.get(digest);
}
"""

# The figure's browser code: plotly's own widget (the bundle's default export, one per model),
# created and initialized as soon as the shared module has been imported; views wait for it.
SHIM = (
    SHARED_MODULE
    + """
export default () => {
  let widget;
  return {
    initialize({ model }) {
      widget = sharedModule(model, "plotly").then(module => {
        const plotly = module.default();
        plotly.initialize({ model });
        return plotly;
      });
      widget.catch(error => console.error("dnabert_viz: plotly's code did not load", error));
    },
    async render(view) {
      return (await widget).render(view);
    },
  };
};"""
)


class SharedCode(W.Widget):
    """Browser code sent once per kernel (no view of its own); widgets import it through
    :data:`SHARED_MODULE`."""

    code = traitlets.Unicode().tag(sync=True)


class PlotlyCode(SharedCode):
    """plotly's widget bundle."""


_holders: dict[type, SharedCode] = {}


def shared_code(kind: type[SharedCode], code: Callable[[], str]) -> SharedCode:
    """The kernel's one ``kind`` holder, made with ``code()`` (made again if it was closed)."""
    holder = _holders.get(kind)
    if holder is None or holder.comm is None:
        holder = _holders[kind] = kind(code=code())
    return holder


def plotly_code() -> PlotlyCode:
    """The kernel's one :class:`PlotlyCode`."""
    return shared_code(PlotlyCode, lambda: str(go.FigureWidget._esm))


class Figure(go.FigureWidget):
    """A plotly ``FigureWidget`` sharing plotly's browser code with every other one on the page.

    Takes what ``plotly.graph_objects.FigureWidget`` takes.
    """

    _esm = SHIM
    # in the state the figure's model is created with (the browser code reads them at once)
    _plotly_code = traitlets.Instance(PlotlyCode).tag(sync=True, **W.widget_serialization)
    _plotly_digest = traitlets.Unicode().tag(sync=True)

    def __init__(self, *args, **kwargs):
        # ipywidgets opens the comm (the browser's model) inside the base class's __init__, and
        # plotly sets the figure's traces and layout only after it, in a state update. A view
        # rendered between the two (a figure put into a box at once) drew an empty plot, which
        # never changes: the view listens to edits, not to that state. So the comm opens once the
        # figure is complete, with its content in the model's first state.
        self._complete = False
        super().__init__(*args, **kwargs)
        self._complete = True
        self.open()

    def open(self) -> None:
        """Open the comm, not before the figure's traces and layout are set."""
        if self._complete:
            super().open()

    @traitlets.default("_plotly_code")
    def _default_code(self) -> PlotlyCode:
        return plotly_code()

    @traitlets.default("_plotly_digest")
    def _default_digest(self) -> str:
        return hashlib.sha256(self._plotly_code.code.encode()).hexdigest()[:16]
