"""Classifier architectures, built from stock Keras layers only so that the saved .keras files load without our code."""

import keras
from keras import layers

from moodlens.modelcard import EMOTIONS


def _conv(x, filters, kernel, strides=1, activation=True, name=None):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=None if name is None else name + "_bn")(x)
    return layers.Activation("relu")(x) if activation else x


def _residual(x, branches, scale, name):
    """Inception-ResNet residual: concat the branches, project linearly to x's width, scale, add (Szegedy 2016)."""
    mixed = layers.Concatenate(name=f"{name}_mixed")(branches)
    up = layers.Conv2D(x.shape[-1], 1, padding="same", name=f"{name}_up")(mixed)
    # Scaling the residual (0.1-0.3) keeps deep stacks stable early in training, as the paper found.
    up = layers.Rescaling(scale, name=f"{name}_scale")(up)
    x = layers.Add(name=f"{name}_add")([x, up])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _block_a(x, name):
    b0 = _conv(x, 24, 1)
    b1 = _conv(_conv(x, 24, 1), 24, 3)
    b2 = _conv(_conv(_conv(x, 24, 1), 32, 3), 48, 3)
    return _residual(x, [b0, b1, b2], 0.17, name)


def _block_b(x, name):
    b0 = _conv(x, 64, 1)
    b1 = _conv(_conv(_conv(x, 48, 1), 56, (1, 5)), 64, (5, 1))
    return _residual(x, [b0, b1], 0.1, name)


def _block_c(x, name):
    b0 = _conv(x, 96, 1)
    b1 = _conv(_conv(_conv(x, 96, 1), 112, (1, 3)), 128, (3, 1))
    return _residual(x, [b0, b1], 0.2, name)


def _reduction(x, conv_branches):
    """Halve the grid: max-pool beside strided convolutions, concatenated (the paper's reduction blocks)."""
    pooled = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    return layers.Concatenate()([pooled] + [branch(x) for branch in conv_branches])


def inception_resnet(input_shape=(48, 48, 1), blocks=(3, 4, 2), dropout=0.3, upsample_to=None):
    """Inception-ResNet-v2's design scaled to 48 px faces and to CPU training: grids 48 -> 24 -> 12 (A) -> 6 (B)
    -> 3 (C).

    Widths are about a quarter of the paper's: this network has to train on two CPU cores. `upsample_to` (a side in
    pixels) resizes the face bilinearly inside the network before the stem: every grid grows with it (64: 32 -> 16
    -> 8 -> 4), at the cost of (side / 48)^2 the computation, and the card's 48 px input stays as it is.
    """
    inputs = keras.Input(input_shape, name="face")
    x = inputs if upsample_to is None else layers.Resizing(upsample_to, upsample_to, name="upsample")(inputs)
    x = _conv(x, 16, 3)
    x = _conv(x, 32, 3, strides=2)  # 24x24
    x = _conv(x, 64, 3)
    x = _reduction(x, [lambda t: _conv(t, 64, 3, strides=2)])  # 12x12x128
    for i in range(blocks[0]):
        x = _block_a(x, f"block_a{i}")
    x = _reduction(
        x, [lambda t: _conv(t, 128, 3, strides=2), lambda t: _conv(_conv(_conv(t, 48, 1), 64, 3), 96, 3, strides=2)]
    )  # 6x6x352
    for i in range(blocks[1]):
        x = _block_b(x, f"block_b{i}")
    x = _reduction(
        x,
        [
            lambda t: _conv(_conv(t, 96, 1), 128, 3, strides=2),
            lambda t: _conv(_conv(_conv(t, 96, 1), 112, 3), 128, 3, strides=2),
        ],
    )  # 3x3x608
    for i in range(blocks[2]):
        x = _block_c(x, f"block_c{i}")
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(len(EMOTIONS), name="logits")(x)
    return keras.Model(inputs, outputs, name="inception_resnet")


def mobilenetv2(input_shape=(48, 48, 1), alpha=1.0, dropout=0.2):
    """Stock Keras MobileNetV2 (inverted residuals, linear bottlenecks), random init, with an emotion logits head."""
    backbone = keras.applications.MobileNetV2(
        input_shape=input_shape, alpha=alpha, include_top=False, weights=None, pooling="avg"
    )
    # keras.applications uses momentum 0.999, made for ImageNet's long runs: over our few thousand steps the moving
    # statistics would still remember their initial values, and inference would read every face as one class.
    for layer in backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = 0.99
    x = layers.Dropout(dropout)(backbone.output)
    outputs = layers.Dense(len(EMOTIONS), name="logits")(x)
    return keras.Model(backbone.input, outputs, name="mobilenetv2")


ARCHITECTURES = {
    "inception-resnet": inception_resnet,
    "mobilenetv2": mobilenetv2,
}
