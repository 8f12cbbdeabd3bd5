"""End to end: the bundled digits demo trains a convnet to well over chance."""
from ember import demo


def test_digits_dataset_layout():
    data = demo.Digits()
    image, label = data[0]
    assert len(data) == 1797
    assert tuple(image.shape) == (1, 8, 8) and str(image.dtype) == "torch.float32"
    assert 0 <= float(image.min()) and float(image.max()) <= 1
    assert str(label.dtype) == "torch.int64" and 0 <= int(label) <= 9


def test_demo_learns_digits():
    assert demo.main(["--epochs", "8"]) > 0.9
