"""Quaternion and rotation helpers in numpy (w, x, y, z order, Hamilton product).

Everything broadcasts over leading dimensions. These are the conventions of the
HumanML3D feature code, so features computed here match the published data.
"""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for (..., 3) arrays, bit for bit, without its per-call axis juggling
    (which dominates on the small per-joint arrays of kinematics)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def qmul(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Hamilton product q * r."""
    w0, x0, y0, z0 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    w1, x1, y1, z1 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
    return np.stack(
        (
            w0 * w1 - x0 * x1 - y0 * y1 - z0 * z1,
            w0 * x1 + x0 * w1 + y0 * z1 - z0 * y1,
            w0 * y1 - x0 * z1 + y0 * w1 + z0 * x1,
            w0 * z1 + x0 * y1 - y0 * x1 + z0 * w1,
        ),
        axis=-1,
    )


def qinv(q: np.ndarray) -> np.ndarray:
    """Inverse of a unit quaternion (its conjugate)."""
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def qnormalize(q: np.ndarray) -> np.ndarray:
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4)."""
    qvec = q[..., 1:]
    uv = cross(qvec, v)
    uuv = cross(qvec, uv)
    return v + 2.0 * (q[..., :1] * uv + uuv)


def qbetween(v0: np.ndarray, v1: np.ndarray) -> np.ndarray:
    """The shortest-arc rotation taking direction v0 onto direction v1.

    For opposite directions (where the shortest arc is not unique) it is a half turn
    about an axis perpendicular to v0.
    """
    v0, v1 = np.broadcast_arrays(np.asarray(v0, dtype=np.float64), np.asarray(v1, dtype=np.float64))
    v = cross(v0, v1)
    w = np.sqrt((v0**2).sum(-1, keepdims=True) * (v1**2).sum(-1, keepdims=True))
    w = w + (v0 * v1).sum(-1, keepdims=True)
    q = np.concatenate([w, v], axis=-1)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    scale = np.sqrt((v0**2).sum(-1, keepdims=True) * (v1**2).sum(-1, keepdims=True))
    opposite = (norm <= 1e-9 * np.maximum(scale, 1e-300))[..., 0]
    if opposite.any():
        q = q.copy()
        q[opposite] = np.concatenate(
            [np.zeros((int(opposite.sum()), 1)), _perpendicular(v0[opposite])], axis=-1
        )
        norm = np.linalg.norm(q, axis=-1, keepdims=True)
    return q / norm


def _perpendicular(v: np.ndarray) -> np.ndarray:
    """Unit vectors perpendicular to each row of v."""
    helper = np.where(
        np.abs(v[..., :1]) < 0.9, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    )
    axis = cross(v, helper)
    return axis / np.linalg.norm(axis, axis=-1, keepdims=True)


def qfix(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 so consecutive quaternions lie in the same hemisphere."""
    result = q.copy()
    flips = (q[1:] * q[:-1]).sum(-1) < 0
    flips = np.cumsum(flips, axis=0) % 2 == 1
    result[1:][flips] *= -1
    return result


def qfrom_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Quaternions for rotations of `angle` radians about unit `axis` (broadcasting)."""
    angle = np.asarray(angle, dtype=np.float64)[..., None]
    axis = np.asarray(axis, dtype=np.float64)
    return np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis], axis=-1)


def qyaw(angle: np.ndarray) -> np.ndarray:
    """Rotations about the vertical (Y) axis."""
    return qfrom_axis_angle(np.array([0.0, 1.0, 0.0]), angle)


def qslerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation from q0 to q1 by weight t (broadcasting, t in [0, 1])."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = (q0 * q1).sum(-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot).clip(max=1.0)
    theta = np.arccos(dot)
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-6
    safe = np.where(small, 1.0, sin_theta)
    w0 = np.where(small, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    w1 = np.where(small, t, np.sin(t * theta) / safe)
    return qnormalize(w0 * q0 + w1 * q1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) from quaternions (..., 4)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    two_s = 2.0 / (q * q).sum(-1)
    m = np.stack(
        (
            1 - two_s * (y * y + z * z),
            two_s * (x * y - z * w),
            two_s * (x * z + y * w),
            two_s * (x * y + z * w),
            1 - two_s * (x * x + z * z),
            two_s * (y * z - x * w),
            two_s * (x * z - y * w),
            two_s * (y * z + x * w),
            1 - two_s * (x * x + y * y),
        ),
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Unit quaternions (w >= 0) from rotation matrices (..., 3, 3)."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    candidates = np.stack(
        (
            1 + m00 + m11 + m22,
            1 + m00 - m11 - m22,
            1 - m00 + m11 - m22,
            1 - m00 - m11 + m22,
        ),
        axis=-1,
    )
    best = candidates.argmax(-1)
    s = np.sqrt(np.take_along_axis(candidates, best[..., None], -1)[..., 0].clip(min=1e-12)) * 2
    q = np.empty(m.shape[:-2] + (4,))
    rows = (
        (
            s / 4,
            (m[..., 2, 1] - m[..., 1, 2]) / s,
            (m[..., 0, 2] - m[..., 2, 0]) / s,
            (m[..., 1, 0] - m[..., 0, 1]) / s,
        ),
        (
            (m[..., 2, 1] - m[..., 1, 2]) / s,
            s / 4,
            (m[..., 0, 1] + m[..., 1, 0]) / s,
            (m[..., 0, 2] + m[..., 2, 0]) / s,
        ),
        (
            (m[..., 0, 2] - m[..., 2, 0]) / s,
            (m[..., 0, 1] + m[..., 1, 0]) / s,
            s / 4,
            (m[..., 1, 2] + m[..., 2, 1]) / s,
        ),
        (
            (m[..., 1, 0] - m[..., 0, 1]) / s,
            (m[..., 0, 2] + m[..., 2, 0]) / s,
            (m[..., 1, 2] + m[..., 2, 1]) / s,
            s / 4,
        ),
    )
    for case, components in enumerate(rows):
        mask = best == case
        for k in range(4):
            q[..., k][mask] = components[k][mask]
    q = np.where(q[..., :1] < 0, -q, q)
    return qnormalize(q)


def quat_to_cont6d(q: np.ndarray) -> np.ndarray:
    """The continuous 6-D representation: the first two columns of the matrix."""
    m = quat_to_matrix(q)
    return np.concatenate([m[..., 0], m[..., 1]], axis=-1)


def cont6d_to_matrix(d6: np.ndarray) -> np.ndarray:
    """Gram-Schmidt back from the 6-D representation to rotation matrices."""
    x = d6[..., 0:3] / np.linalg.norm(d6[..., 0:3], axis=-1, keepdims=True)
    z = cross(x, d6[..., 3:6])
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = cross(z, x)
    return np.stack([x, y, z], axis=-1)


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Matrices for intrinsic rotations applied in `order` (e.g. 'ZYX', as BVH writes them)."""
    angles = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    result = np.broadcast_to(np.eye(3), angles.shape[:-1] + (3, 3)).copy()
    for k, axis in enumerate(order.upper()):
        result = result @ _axis_matrix(axis, angles[..., k])
    return result


def matrix_to_euler(m: np.ndarray, order: str) -> np.ndarray:
    """Inverse of euler_to_matrix for the 'ZYX', 'ZXY' and 'XYZ' orders (degrees)."""
    order = order.upper()
    if order == "ZYX":
        y = np.arcsin(-m[..., 2, 0].clip(-1, 1))
        z = np.arctan2(m[..., 1, 0], m[..., 0, 0])
        x = np.arctan2(m[..., 2, 1], m[..., 2, 2])
        angles = (z, y, x)
    elif order == "ZXY":
        x = np.arcsin(m[..., 2, 1].clip(-1, 1))
        z = np.arctan2(-m[..., 0, 1], m[..., 1, 1])
        y = np.arctan2(-m[..., 2, 0], m[..., 2, 2])
        angles = (z, x, y)
    elif order == "XYZ":
        y = np.arcsin(m[..., 0, 2].clip(-1, 1))
        x = np.arctan2(-m[..., 1, 2], m[..., 2, 2])
        z = np.arctan2(-m[..., 0, 1], m[..., 0, 0])
        angles = (x, y, z)
    else:
        raise ValueError(f"unsupported Euler order {order!r}; use ZYX, ZXY or XYZ")
    return np.rad2deg(np.stack(angles, axis=-1))


def _axis_matrix(axis: str, angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    if axis == "X":
        rows = (one, zero, zero, zero, c, -s, zero, s, c)
    elif axis == "Y":
        rows = (c, zero, s, zero, one, zero, -s, zero, c)
    elif axis == "Z":
        rows = (c, -s, zero, s, c, zero, zero, zero, one)
    else:
        raise ValueError(f"unknown rotation axis {axis!r}")
    return np.stack(rows, axis=-1).reshape(angle.shape + (3, 3))
