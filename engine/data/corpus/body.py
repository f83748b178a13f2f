"""The generator's body: a neutral rest pose on HumanML3D's reference skeleton, forward
kinematics over local joint rotations, and analytic two-bone IK.

Convention (SMPL-like, which makes poses easy to author): joint j's local rotation R_j
rotates everything below j; its global rotation is G_j = G_parent(j) R_j (G_0 is the root
orientation) and a child sits at p_child = p_j + G_j · REST[child]. With every R_j the
identity the body stands upright facing +Z, arms hanging. The engine's feature code uses
HumanML3D's per-bone convention instead; both only ever meet as joint positions, and bone
lengths are constant by construction in either.

Body frame: +X is the person's left, +Y up, +Z forward.
"""

from __future__ import annotations

import numpy as np

from engine.motion.rotations import IDENTITY, qbetween, qfrom_axis_angle, qinv, qmul, qrot
from engine.motion.skeleton import HUMANML3D

SKELETON = HUMANML3D
PARENTS = np.array(SKELETON.parents)
J = SKELETON.num_joints

# joint indices
PELVIS, L_HIP, R_HIP, SPINE1, L_KNEE, R_KNEE, SPINE2, L_ANKLE, R_ANKLE = range(9)
SPINE3, L_TOE, R_TOE, NECK, L_COLLAR, R_COLLAR, HEAD = range(9, 16)
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = range(16, 22)

# per side (0 = left, 1 = right): sign of the side along +X and the chains' joints
SIDE_SIGN = np.array([1.0, -1.0])
HIP = (L_HIP, R_HIP)
KNEE = (L_KNEE, R_KNEE)
ANKLE = (L_ANKLE, R_ANKLE)
TOE = (L_TOE, R_TOE)
COLLAR = (L_COLLAR, R_COLLAR)
SHOULDER = (L_SHOULDER, R_SHOULDER)
ELBOW = (L_ELBOW, R_ELBOW)
WRIST = (L_WRIST, R_WRIST)

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])

# Rest direction of the bone that ends at each joint (parent -> joint), in the parent's
# frame: a relaxed standing pose close to SMPL's template (hip joints below and beside
# the pelvis, the toe joint ahead of and below the ankle, arms hanging slightly apart).
_REST_DIRECTIONS = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.56, -0.82, -0.05],
        [-0.56, -0.82, -0.05],
        [0.0, 0.97, -0.22],
        [0.03, -1.0, 0.0],
        [-0.03, -1.0, 0.0],
        [0.0, 1.0, 0.08],
        [0.0, -1.0, -0.03],
        [0.0, -1.0, -0.03],
        [0.0, 1.0, 0.06],
        [0.0, -0.35, 0.94],
        [0.0, -0.35, 0.94],
        [0.0, 0.99, -0.08],
        [0.55, 0.82, -0.1],
        [-0.55, 0.82, -0.1],
        [0.0, 0.88, 0.47],
        [0.94, 0.3, -0.1],
        [-0.94, 0.3, -0.1],
        [0.12, -0.99, 0.0],
        [-0.12, -0.99, 0.0],
        [0.06, -0.99, 0.06],
        [-0.06, -0.99, 0.06],
    ]
)
REST_DIRECTIONS = np.zeros_like(_REST_DIRECTIONS)
REST_DIRECTIONS[1:] = _REST_DIRECTIONS[1:] / np.linalg.norm(_REST_DIRECTIONS[1:], axis=1)[:, None]
LENGTHS = SKELETON.bone_lengths.astype(np.float64)
REST = REST_DIRECTIONS * LENGTHS[:, None]

THIGH = LENGTHS[L_KNEE], LENGTHS[R_KNEE]
SHANK = LENGTHS[L_ANKLE], LENGTHS[R_ANKLE]
FOOT = LENGTHS[L_TOE], LENGTHS[R_TOE]
UPPER_ARM = LENGTHS[L_ELBOW], LENGTHS[R_ELBOW]
FOREARM = LENGTHS[L_WRIST], LENGTHS[R_WRIST]
# toe joint height above the floor when the foot is flat, and the foot's resting pitch
TOE_HEIGHT = 0.02
FOOT_PITCH = float(np.arctan2(_REST_DIRECTIONS[L_TOE, 1], _REST_DIRECTIONS[L_TOE, 2]))
ANKLE_HEIGHT = TOE_HEIGHT - FOOT[0] * np.sin(FOOT_PITCH)
# hip joints relative to the pelvis in the rest pose
HIP_DROP = -REST[L_HIP, 1]


def leg_length(knee_flexion_deg: float, side: int = 0) -> float:
    """Hip-to-ankle distance with the knee bent by the given angle."""
    a, b = THIGH[side], SHANK[side]
    return float(np.sqrt(a * a + b * b + 2 * a * b * np.cos(np.radians(knee_flexion_deg))))


# the most each planted leg stretches: knee bent 3° (the reference skeleton's right leg is
# 1 cm shorter than its left)
LEG_REACH = (leg_length(3.0, 0), leg_length(3.0, 1))


def qx(angle: np.ndarray | float) -> np.ndarray:
    return qfrom_axis_angle(X_AXIS, angle)


def qy(angle: np.ndarray | float) -> np.ndarray:
    return qfrom_axis_angle(Y_AXIS, angle)


def qz(angle: np.ndarray | float) -> np.ndarray:
    return qfrom_axis_angle(Z_AXIS, angle)


def body_rotation(flex=0.0, bend=0.0, twist=0.0) -> np.ndarray:
    """A trunk-like joint's rotation from anatomical angles (radians, broadcasting):
    `flex` bends forward, `bend` leans towards the person's left, `twist` turns left."""
    return qmul(qmul(qy(twist), qz(-np.asarray(bend))), qx(flex))


def identity_rotations(frames: int) -> np.ndarray:
    return np.broadcast_to(IDENTITY, (frames, J, 4)).copy()


def forward_kinematics(
    root_rotation: np.ndarray, local: np.ndarray, root: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (T, J, 3) and global rotations (T, J, 4) from the root orientation (T, 4),
    local rotations (T, J, 4; joint 0's is ignored) and root positions (T, 3)."""
    frames = len(root)
    glob = np.empty((frames, J, 4))
    pos = np.empty((frames, J, 3))
    glob[:, 0] = root_rotation
    pos[:, 0] = root
    for j in range(1, J):
        parent = PARENTS[j]
        pos[:, j] = pos[:, parent] + qrot(glob[:, parent], np.broadcast_to(REST[j], (frames, 3)))
        glob[:, j] = qmul(glob[:, parent], local[:, j])
    return pos, glob


def local_swing(parent_global: np.ndarray, joint: int, direction: np.ndarray) -> np.ndarray:
    """The local rotation, at the parent of `joint`, that points the bone ending at `joint`
    along world `direction` (..., 3). Twist about the bone is left out: positions do not
    depend on it."""
    target = qrot(qinv(parent_global), direction)
    return qbetween(np.broadcast_to(REST_DIRECTIONS[joint], target.shape), target)


def normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def two_bone_ik(
    base: np.ndarray, target: np.ndarray, upper: float, lower: float, pole: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle and end joint positions (..., 3) of a two-bone chain from `base` reaching
    towards `target`, bending towards `pole` (a direction). A target out of reach is
    approached along the same line and the chain stops just short of straight."""
    offset = target - base
    dist = np.linalg.norm(offset, axis=-1, keepdims=True)
    axis = offset / np.maximum(dist, 1e-9)
    dist = dist.clip(abs(upper - lower) + 1e-4, (upper + lower) * 0.9995)
    cos_a = ((upper**2 + dist**2 - lower**2) / (2 * upper * dist)).clip(-1.0, 1.0)
    bend = pole - (pole * axis).sum(-1, keepdims=True) * axis
    bend = normalize(bend)
    middle = base + upper * (cos_a * axis + np.sqrt(1 - cos_a**2) * bend)
    end = middle + lower * normalize(base + axis * dist - middle)
    return middle, end


def foot_direction(yaw: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """Unit ankle-to-toe vectors for foot headings `yaw` and pitches (0 = level forward,
    negative = toes down)."""
    yaw, pitch = np.broadcast_arrays(np.asarray(yaw, float), np.asarray(pitch, float))
    c = np.cos(pitch)
    return np.stack([c * np.sin(yaw), np.sin(pitch), c * np.cos(yaw)], axis=-1)


def heading_vectors(yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World (left, forward) unit vectors of headings `yaw` (..., 3 each)."""
    yaw = np.asarray(yaw, float)
    zero = np.zeros_like(yaw)
    forward = np.stack([np.sin(yaw), zero, np.cos(yaw)], axis=-1)
    left = np.stack([np.cos(yaw), zero, -np.sin(yaw)], axis=-1)
    return left, forward


def to_world(yaw: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Heading-frame vectors (..., 3: left, up, forward) to world vectors."""
    left, forward = heading_vectors(yaw)
    return local[..., :1] * left + local[..., 1:2] * Y_AXIS + local[..., 2:3] * forward


def limb(side: int, flex, abduct=0.0) -> np.ndarray:
    """A limb direction in its parent's frame: hanging straight down, swung forward by
    `flex`, then out to its side by `abduct` (radians, broadcasting; 180° of either is
    straight up, negative flex swings backwards)."""
    sign = SIDE_SIGN[side]
    flex, abduct = np.broadcast_arrays(np.asarray(flex, float), np.asarray(abduct, float))
    down = np.broadcast_to(-Y_AXIS, flex.shape + (3,))
    return qrot(qz(sign * abduct), qrot(qx(-flex), down))


def toe_point(
    side: int, height, hip_flex, knee_flex, abduct=0.0, pitch=FOOT_PITCH, shift=(0.0, 0.0)
) -> np.ndarray:
    """Where the toe joint is (heading frame relative to the stance centre, y absolute)
    for a leg posed by hip and knee angles under a pelvis at `height`, shifted by
    `shift` (left, forward): lets actions drive a free leg by joint angles."""
    height = np.asarray(height, float)
    hip = np.stack(
        np.broadcast_arrays(
            shift[0] + REST[HIP[side], 0],
            height + REST[HIP[side], 1],
            shift[1] + REST[HIP[side], 2],
        ),
        axis=-1,
    )
    thigh = limb(side, hip_flex, abduct)
    shank = limb(side, np.asarray(hip_flex) - np.asarray(knee_flex), abduct)
    foot = foot_direction(np.zeros_like(np.asarray(pitch, float)), pitch)
    return hip + THIGH[side] * thigh + SHANK[side] * shank + FOOT[side] * foot
