"""Forms of the reuse circuit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (DateField, DecimalField, IntegerField, SelectField, StringField,
                     SubmitField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import options
from reuse.models import (CATEGORY_LABELS, CONDITION_LABELS, DESTINATION_LABELS, SANITISATION_TYPE_LABELS,
                          StorageType)

STORAGE_LABELS = {
    StorageType.NONE: _l("None"),
    StorageType.HDD: _l("Hard disk (HDD)"),
    StorageType.SSD: _l("SSD"),
    StorageType.EMMC: _l("eMMC / flash"),
    StorageType.OTHER: _l("Other"),
}


STORAGE_ANSWERS = {"unknown": None, "yes": True, "no": False}


def storage_answer(value) -> bool | None:
    """The answer of the storage-media select: None (unknown), True or False."""
    if value is None or isinstance(value, bool):  # the device's own value, or the default
        return value
    if value not in STORAGE_ANSWERS:
        raise ValueError(value)
    return STORAGE_ANSWERS[value]


class DeviceForm(FlaskForm):
    category = SelectField(_l("Category"), choices=options((c.value, label) for c, label in CATEGORY_LABELS.items()))
    brand = StringField(_l("Brand"), validators=[Optional(), Length(max=100)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=150)])
    serial_number = StringField(_l("Serial number"), validators=[Optional(), Length(max=100)])
    asset_number = StringField(_l("Asset number"), validators=[Optional(), Length(max=100)],
                               description=_l("The serial number or the asset number is required."))
    purchase_date = DateField(_l("Purchase date"), validators=[Optional()])
    purchase_price = DecimalField(_l("Purchase price excl. VAT (€)"), places=2, validators=[Optional(), NumberRange(min=0)])
    cpu = StringField(_l("Processor"), validators=[Optional(), Length(max=150)])
    ram_gb = IntegerField(_l("Memory (GB)"), validators=[Optional(), NumberRange(min=0, max=4096)])
    storage_type = SelectField(_l("Storage type"), choices=options((s.value, label) for s, label in STORAGE_LABELS.items()))
    storage_gb = IntegerField(_l("Storage size (GB)"), validators=[Optional(), NumberRange(min=0)])
    screen_inches = DecimalField(_l("Screen size (inches)"), places=1, validators=[Optional(), NumberRange(min=0, max=150)])
    condition = SelectField(_l("Condition"), choices=options([("", "—")] + [(c.value, label) for c, label in CONDITION_LABELS.items()]),
                            validators=[Optional()])
    weight_kg = DecimalField(_l("Weight (kg)"), places=2, validators=[Optional(), NumberRange(min=0.01)],
                             description=_l("Leave empty to use the typical weight of the category."))
    has_storage_media = SelectField(
        _l("Holds storage media (disk, flash memory)"), coerce=storage_answer, default=None,
        choices=options([("unknown", _l("Unknown: nobody has checked yet")), ("yes", _l("Yes")), ("no", _l("No"))]),
        description=_l("Until someone answers, a laptop, desktop, tablet, smartphone, server or printer "
                       "cannot leave your organisation."))
    site_id = SelectField(_l("Site"), coerce=int, validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save the device"))


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo (JPEG, PNG or WebP)"), validators=[
        FileRequired(), FileAllowed(["jpg", "jpeg", "png", "webp"], _l("Only JPEG, PNG or WebP images."))])
    submit = SubmitField(_l("Add the photo"))


class OfferForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    site_id = SelectField(_l("Pick-up site"), coerce=int)
    submit = SubmitField(_l("Publish the offer"))


class RequestForm(FlaskForm):
    quantity = IntegerField(_l("Quantity"), default=1, validators=[DataRequired(), NumberRange(min=1)])
    purpose = TextAreaField(_l("What the equipment will be used for"),
                            validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Request"))


class ApproveForm(FlaskForm):
    collect_by = DateField(_l("To collect by"), validators=[Optional()])
    submit = SubmitField(_l("Approve"))


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the refusal"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Refuse"))


class SanitisationForm(FlaskForm):
    media_type = StringField(_l("Media type"), validators=[DataRequired(), Length(max=100)],
                             description=_l("For example: SATA SSD, NVMe SSD, HDD, eMMC."))
    sanitisation_type = SelectField(_l("Sanitisation type (NIST SP 800-88)"),
                                    choices=options((t.value, label) for t, label in SANITISATION_TYPE_LABELS.items()))
    method = StringField(_l("Method"), validators=[DataRequired(), Length(max=200)],
                         description=_l("For example: ATA Secure Erase, cryptographic erase, single overwrite, shredding."))
    tool = StringField(_l("Tool"), validators=[DataRequired(), Length(max=150)])
    tool_version = StringField(_l("Tool version"), validators=[Optional(), Length(max=50)])
    verification_method = StringField(_l("Verification method"), validators=[DataRequired(), Length(max=200)])
    destination = SelectField(_l("Destination"),
                              choices=options((d.value, label) for d, label in DESTINATION_LABELS.items()))
    performed_by = StringField(_l("Performed by"), validators=[DataRequired(), Length(max=200)])
    performed_on = DateField(_l("Performed on"), validators=[DataRequired()])
    validated_by = StringField(_l("Validated by"), validators=[DataRequired(), Length(max=200)])
    validated_on = DateField(_l("Validated on"), validators=[DataRequired()])
    submit = SubmitField(_l("Record the sanitisation"))


class RecyclingForm(FlaskForm):
    operator = StringField(_l("WEEE operator or eco-organisme"), validators=[DataRequired(), Length(max=200)])
    pickup_on = DateField(_l("Pick-up date"), validators=[DataRequired()])
    weight_kg = DecimalField(_l("Weight collected (kg)"), places=2, validators=[Optional(), NumberRange(min=0)],
                             description=_l("Leave empty to use the sum of the devices' weights."))
    tracking_reference = StringField(_l("Waste-tracking reference (BSD, Trackdéchets)"),
                                     validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Record the recycling"))


class ReconditioningForm(FlaskForm):
    refurbisher_id = SelectField(_l("Refurbisher"), coerce=int)
    submit = SubmitField(_l("Send for reconditioning"))


class SaleForm(FlaskForm):
    price = DecimalField(_l("Sale price (€)"), places=2, validators=[DataRequired(), NumberRange(min=0)])
    buyer = StringField(_l("Buyer"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Record the sale"))


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["csv", "txt"], _l("Choose a CSV file (.csv or .txt)."))],
        description=_l("Circuit's template, a GLPI export or a Snipe-IT export; columns separated by "
                       "“;” or “,”."))
    category = SelectField(
        _l("Category of the devices"),
        choices=options([("", "—")] + [(c.value, label) for c, label in CATEGORY_LABELS.items()]),
        validators=[Optional()],
        description=_l("Used when the file has no category or type column, e.g. a GLPI export of monitors."))
    submit = SubmitField(_l("Preview the import"))
