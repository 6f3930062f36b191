"""The base data (基本信息) of a second-generation resident identity card (第二代居民身份证): 256
bytes of UCS-2 text, little-endian (UTF-16LE), in fixed fields padded with spaces, as the SAM
module returns them and as the PC/SC test card of docs/protocols/idcard.md holds them.

=======  =====  ===========================================================
offset   bytes  field
=======  =====  ===========================================================
0        30     name (姓名), 15 characters
30       2      sex (性别), a GB/T 2261.1 code: 0 unknown, 1 male, 2 female, 9 unstated
32       4      ethnicity (民族), a GB 3304 code: 01 汉族 … 56 基诺族
36       16     birth date (出生), YYYYMMDD
52       70     address (住址), 35 characters
122      36     ID number (公民身份号码), 18 characters, GB 11643
158      30     issuing authority (签发机关)
188      16     valid from (有效期起始), YYYYMMDD
204      16     valid until (有效期截止), YYYYMMDD or 长期 (no end)
220      36     reserved
=======  =====  ===========================================================

The ID number is checked by ``hall.kernel.idnumbers`` (python-stdnum, GB 11643), and must agree
with the birth date and sex fields. This is personal data: ``repr`` shows the name and number
masked (``hall.kernel.masking``) and nothing else of the person, so a log line cannot leak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Final

from hall.kernel.errors import Invalid
from hall.kernel.i18n import N_, Text
from hall.kernel.idnumbers import normalise
from hall.kernel.masking import mask_id, mask_name

SIZE: Final = 256
PERMANENT: Final = "长期"
# (field, bytes) in the order of the card; each holds bytes // 2 characters.
LAYOUT: Final = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth", 16),
    ("address", 70),
    ("id_number", 36),
    ("issuer", 30),
    ("valid_from", 16),
    ("valid_until", 16),
)
_WIDTH: Final = dict(LAYOUT)
_RESERVED: Final = SIZE - sum(_WIDTH.values())
# Each field in words, for refusals that name it.
_WORDS: Final = {
    "name": N_("name"),
    "sex": N_("sex"),
    "nation": N_("ethnicity"),
    "birth": N_("birth date"),
    "address": N_("address"),
    "id_number": N_("ID number"),
    "issuer": N_("issuing authority"),
    "valid_from": N_("start of validity"),
    "valid_until": N_("end of validity"),
}

# GB/T 2261.1-2003, 人的性别代码.
SEXES: Final[Mapping[str, str]] = {"0": "未知的性别", "1": "男", "2": "女", "9": "未说明的性别"}
# GB 3304-1991, 中国各民族名称的罗马字母拼写法和代码, in the order of its codes 01 to 56, then its codes 97
# and 98. One string, so the 56 names read as a table rather than a column of 56 lines.
_NATIONS: Final = (  # noqa: SIM905
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 "
    "景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 "
    "保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
NATIONS: Final[Mapping[str, str]] = {
    **{f"{code:02d}": f"{name}族" for code, name in enumerate(_NATIONS, start=1)},
    "97": "其他",
    "98": "外国血统中国籍人士",
}


def _date(text: str, name: str) -> date:
    """``YYYYMMDD`` as a date; ``name`` is the field's, for the refusal."""
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise Invalid(
            N_("the card's {what} is not a date written YYYYMMDD"), field=name, say={"what": Text(_WORDS[name])}
        ) from None


@dataclass(frozen=True, repr=False)
class IdCardData:
    """One card's base data, checked: the ID number by its GB 11643 check digit and against the
    birth date and sex it encodes, every field within its width, the codes from their tables."""

    name: str
    sex: str
    nation: str
    birth: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_until: date | None  # None: 长期, valid for life

    def __post_init__(self) -> None:
        for name, width in LAYOUT:
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > width // 2:
                raise Invalid(
                    N_("the card's {what} is longer than {limit} characters"),
                    field=name,
                    limit=width // 2,
                    say={"what": Text(_WORDS[name])},
                )
        if not self.name.strip():
            raise Invalid(N_("the card has no name"), field="name")
        if self.sex not in SEXES:
            raise Invalid(N_("the card's sex code {code} is not one of GB/T 2261.1"), field="sex", code=self.sex)
        if self.nation not in NATIONS:
            raise Invalid(
                N_("the card's ethnicity code {code} is not one of GB 3304"), field="nation", code=self.nation
            )
        number = normalise(self.id_number)  # InvalidIdNumber names what is wrong with it
        object.__setattr__(self, "id_number", number)
        if number[6:14] != self.birth.strftime("%Y%m%d"):
            raise Invalid(N_("the card's birth date does not agree with its ID number"), field="birth")
        # GB 11643: the 17th digit is odd for men and even for women.
        if self.sex in ("1", "2") and int(number[16]) % 2 != int(self.sex) % 2:
            raise Invalid(N_("the card's sex does not agree with its ID number"), field="sex")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise Invalid(N_("the card's validity ends before it begins"), field="valid_until")

    @property
    def sex_word(self) -> str:
        return SEXES[self.sex]

    @property
    def nation_word(self) -> str:
        return NATIONS[self.nation]

    def masked(self) -> dict[str, Any]:
        """What a screen, an event or a log may show of the card: the masks of the project."""
        return {"name": mask_name(self.name), "id_number": mask_id(self.id_number)}

    def __repr__(self) -> str:
        return f"IdCardData(name={mask_name(self.name)!r}, id_number={mask_id(self.id_number)!r})"

    __str__ = __repr__


def decode(text: bytes) -> IdCardData:
    """The card of 256 bytes of base data, or ``Invalid`` / ``InvalidIdNumber`` saying what is wrong."""
    if len(text) != SIZE:
        raise Invalid(N_("the card's base data has {length} bytes, not {size}"), length=len(text), size=SIZE)
    values: dict[str, str] = {}
    at = 0
    for name, width in LAYOUT:
        try:
            values[name] = text[at : at + width].decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError:
            raise Invalid(
                N_("the card's {what} is not UCS-2 text"), field=name, say={"what": Text(_WORDS[name])}
            ) from None
        at += width
    until = values["valid_until"]
    return IdCardData(
        name=values["name"],
        sex=values["sex"],
        nation=values["nation"],
        birth=_date(values["birth"], "birth"),
        address=values["address"],
        id_number=values["id_number"],
        issuer=values["issuer"],
        valid_from=_date(values["valid_from"], "valid_from"),
        valid_until=None if until == PERMANENT else _date(until, "valid_until"),
    )


def encode(card: IdCardData) -> bytes:
    """The 256 bytes a card holding ``card`` gives, for simulated readers and test cards."""
    texts = {f.name: getattr(card, f.name) for f in fields(card)}
    for name in ("birth", "valid_from"):
        texts[name] = texts[name].strftime("%Y%m%d")
    texts["valid_until"] = PERMANENT if card.valid_until is None else card.valid_until.strftime("%Y%m%d")
    out = b"".join(str(texts[name]).ljust(width // 2).encode("utf-16-le") for name, width in LAYOUT)
    return out + " ".encode("utf-16-le") * (_RESERVED // 2)
