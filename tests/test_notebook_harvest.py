"""Harvesting an executed notebook on its own: sections, timings, outputs, tags, noise."""

from __future__ import annotations

import base64

import nbformat

from reportgen.notebook import clean_text, harvest_notebook, notebook_markdown

PNG = base64.b64encode(b"\x89PNG fake").decode()


def _cell(source, outputs=(), tags=(), seconds=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    if tags:
        cell.metadata["tags"] = list(tags)
    if seconds is not None:
        cell.metadata["papermill"] = {"duration": seconds}
    return cell


def _stdout(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _write(tmp_path, cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_sections_follow_headings_and_add_up_cell_durations(tmp_path):
    path = _write(tmp_path, [
        nbformat.v4.new_markdown_cell("# Título\n\nDe qué se trata."),
        _cell("x = 1", tags=["parameters"], seconds=0.5),
        nbformat.v4.new_markdown_cell("## Datos\n\nCómo se cargan."),
        _cell("a", [_stdout("hola\n")], seconds=1.5),
        _cell("b", [{"output_type": "display_data", "data": {"image/png": PNG}, "metadata": {}}], seconds=2.0),
        nbformat.v4.new_markdown_cell("## Modelo"),
        _cell("c", [{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                     "data": {"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "df"}}], seconds=3.0),
    ])
    harvest = harvest_notebook(path)
    assert harvest.title == "Título" and harvest.intro == "De qué se trata."
    assert [(s.title, s.seconds) for s in harvest.sections] == [("Datos", 3.5), ("Modelo", 3.0)]
    assert harvest.sections[0].prose == "Cómo se cargan."
    assert [o.kind for o in harvest.sections[0].outputs] == ["text", "figure"]
    assert harvest.sections[1].outputs[0].kind == "table"


def test_a_notebook_without_headings_is_one_untitled_section(tmp_path):
    harvest = harvest_notebook(_write(tmp_path, [_cell("print(1)", [_stdout("1\n")], seconds=1.0)]))
    assert [(s.title, s.seconds) for s in harvest.sections] == [("", 1.0)]


def test_noise_is_left_out_and_results_kept():
    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "E0000 00:00:1732 1234 cuda_dnn.cc:8] use_unbounded_threadpool\n"
            "Epoch 1/2\n\r 1/4 ━━━━━━ 0s\r 4/4 ━━━━━━ 1s 2ms/step - loss: 0.5\n"
            "100%|██████████| 10/10 [00:01<00:00]\n"
            "WARNING:tensorflow:5 out of the last 5 calls triggered tf.function retracing\n"
            "accuracy: 0.91\n")
    assert clean_text(text) == "accuracy: 0.91"


def test_tags_on_the_notebook_page(tmp_path):
    nb = nbformat.read(str(_write(tmp_path, [
        _cell("QUITAR_CELDA", [_stdout("quitada\n")], tags=["remove-cell"]),
        _cell("QUITAR_CODIGO", [_stdout("visible\n")], tags=["remove-input"]),
        _cell("SIN_SALIDA", [_stdout("SALIDA_QUITADA\n")], tags=["remove-output"]),
        _cell("CODIGO_PLEGADO", tags=["hide-input"]),
        _cell("z", [_stdout("PLEGADA\n")], tags=["hide-output"]),
    ])), as_version=4)
    body, _ = notebook_markdown(nb, "nb_files", {"codigo": "Código", "salida": "Salida"})
    assert "QUITAR_CELDA" not in body and "quitada" not in body
    assert "QUITAR_CODIGO" not in body and "visible" in body
    assert "SIN_SALIDA" in body and "SALIDA_QUITADA" not in body
    assert '??? note "Código"\n\n    ```python\n    CODIGO_PLEGADO' in body
    assert '??? note "Salida"\n\n    ```text\n    PLEGADA' in body


def test_text_with_backticks_stays_inside_its_code_block(tmp_path):
    nb = nbformat.read(str(_write(tmp_path, [_cell("p", [_stdout("```\n# no es un título\n```\n")])])), as_version=4)
    body, _ = notebook_markdown(nb, "nb_files")
    assert "````text\n```\n# no es un título\n```\n````" in body


def test_svg_markdown_and_widget_outputs(tmp_path):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    harvest = harvest_notebook(_write(tmp_path, [_cell("a", [
        {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg, "text/plain": "<Figure>"}},
        {"output_type": "display_data", "metadata": {},
         "data": {"text/markdown": "**negrita** <img src=x onerror=alert(1)>", "text/plain": "md"}},
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "1"}, "text/plain": "HBox()"}},
    ])]))
    figure, markdown = harvest.sections[0].outputs
    assert figure.kind == "figure" and figure.file.endswith(".svg")  # linked through <img>: its script never runs
    assert markdown.kind == "markdown" and "**negrita**" in markdown.text and "onerror" not in markdown.text


def test_links_next_to_the_notebook_become_text_and_others_stay():
    from reportgen.notebook import sanitize_markdown

    text = "Ver ![el gráfico](figs/plot.png) y [los datos](data/x.csv), [Keras](https://keras.io), [arriba](#datos)."
    assert sanitize_markdown(text) == "Ver *el gráfico* y los datos, [Keras](https://keras.io), [arriba](#datos)."


def test_markdown_stays_in_place_and_its_headings_sit_below_the_section(tmp_path):
    harvest = harvest_notebook(_write(tmp_path, [
        nbformat.v4.new_markdown_cell("## Primero\n\nIntro del notebook."),
        _cell("a", [_stdout("uno\n")], seconds=1.0),
        nbformat.v4.new_markdown_cell("Entre salidas.\n\n# Un título suelto"),
        _cell("b", [_stdout("dos\n")], seconds=1.0),
        nbformat.v4.new_markdown_cell("## Conclusiones\n\nSin código."),
    ]))
    assert harvest.intro == "Intro del notebook."
    first, last = harvest.sections
    assert [(o.kind, o.text) for o in first.outputs] == [
        ("text", "uno"), ("markdown", "Entre salidas.\n\n#### Un título suelto"), ("text", "dos")]
    assert (last.title, last.prose, last.seconds) == ("Conclusiones", "Sin código.", None)
