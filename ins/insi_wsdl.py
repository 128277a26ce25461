"""A sandbox-written WSDL for the two INSi operations (FACTS §1.2, A.1), served at
``GET /ins/insi?wsdl`` so that generic SOAP clients (zeep, SoapUI...) can call the mock.

This is **not** CNAM's ``DESIR_ICIR_EXP_1.5.0.wsdl`` (not public): element names, namespaces,
``wsam:Action`` values and the SOAP 1.2 binding follow FACTS A.1; the header blocks
(``ContexteBAM``, ``ContexteLPS``) are left out of the schema and sent by the client as raw XML.
Element types are plain strings: the service checks values itself and answers precise Faults.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ins.insi_soap import RECSANS_NS, RECVIT_NS, RESULTAT_NS, Operation

_ID = """<xs:complexType name="IdIndividu"><xs:sequence>
<xs:element name="NumIdentifiant" type="xs:string"/><xs:element name="Cle" type="xs:string" minOccurs="0"/>
</xs:sequence></xs:complexType>"""

_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="ICIRService" targetNamespace="urn:mes-sandbox:insi:wsdl"
 xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:wsam="http://www.w3.org/2007/05/addressing/metadata"
 xmlns:tns="urn:mes-sandbox:insi:wsdl" xmlns:rs="{recsans}" xmlns:rv="{recvit}" xmlns:res="{resultat}">
<wsdl:documentation>mes-sandbox INSi mock (sandbox-written WSDL, not CNAM's).</wsdl:documentation>
<wsdl:types>
<xs:schema targetNamespace="{recsans}" elementFormDefault="qualified">
<xs:element name="RECSANSVITALE"><xs:complexType><xs:sequence>
<xs:element name="NomNaissance" type="xs:string"/>
<xs:element name="Prenom" type="xs:string" maxOccurs="unbounded"/>
<xs:element name="Sexe" type="xs:string"/>
<xs:element name="DateNaissance" type="xs:string"/>
<xs:element name="LieuNaissance" type="xs:string" minOccurs="0"/>
</xs:sequence></xs:complexType></xs:element>
</xs:schema>
<xs:schema targetNamespace="{recvit}" elementFormDefault="qualified">
{id}
<xs:element name="RECVITALE"><xs:complexType><xs:sequence>
<xs:element name="MatriculeIndividu" type="rv:IdIndividu" minOccurs="0"/>
<xs:element name="MatriculeOD" type="rv:IdIndividu"/>
<xs:element name="NomNaissance" type="xs:string" minOccurs="0"/>
<xs:element name="DateNaissance" type="xs:string"/>
<xs:element name="RangNaissance" type="xs:string"/>
</xs:sequence></xs:complexType></xs:element>
</xs:schema>
<xs:schema targetNamespace="{resultat}" elementFormDefault="qualified">
{id}
<xs:complexType name="INS"><xs:sequence>
<xs:element name="IdIndividu" type="res:IdIndividu"/>
<xs:element name="OID" type="xs:string"/>
<xs:element name="DateDeb" type="xs:string" minOccurs="0"/>
<xs:element name="DateFin" type="xs:string" minOccurs="0"/>
</xs:sequence></xs:complexType>
<xs:element name="RESULTAT"><xs:complexType><xs:sequence>
<xs:element name="CR"><xs:complexType><xs:sequence>
<xs:element name="CodeCR" type="xs:string"/><xs:element name="LibelleCR" type="xs:string"/>
</xs:sequence></xs:complexType></xs:element>
<xs:element name="INDIVIDU" minOccurs="0"><xs:complexType><xs:sequence>
<xs:element name="INSACTIF" type="res:INS"/>
<xs:element name="INSHISTO" type="res:INS" minOccurs="0" maxOccurs="unbounded"/>
<xs:element name="TIQ"><xs:complexType><xs:sequence>
<xs:element name="NomNaissance" type="xs:string"/><xs:element name="ListePrenom" type="xs:string"/>
<xs:element name="Sexe" type="xs:string"/><xs:element name="DateNaissance" type="xs:string"/>
<xs:element name="LieuNaissance" type="xs:string" minOccurs="0"/>
</xs:sequence></xs:complexType></xs:element>
</xs:sequence></xs:complexType></xs:element>
</xs:sequence></xs:complexType></xs:element>
</xs:schema>
</wsdl:types>
<wsdl:message name="RecSansVitaleRequest"><wsdl:part name="body" element="rs:RECSANSVITALE"/></wsdl:message>
<wsdl:message name="RecVitaleRequest"><wsdl:part name="body" element="rv:RECVITALE"/></wsdl:message>
<wsdl:message name="Resultat"><wsdl:part name="body" element="res:RESULTAT"/></wsdl:message>
<wsdl:portType name="ICIRPortType">
<wsdl:operation name="{op_traits}">
<wsdl:input message="tns:RecSansVitaleRequest" wsam:Action="{act_traits}"/>
<wsdl:output message="tns:Resultat" wsam:Action="{act_traits}Response"/>
</wsdl:operation>
<wsdl:operation name="{op_vitale}">
<wsdl:input message="tns:RecVitaleRequest" wsam:Action="{act_vitale}"/>
<wsdl:output message="tns:Resultat" wsam:Action="{act_vitale}Response"/>
</wsdl:operation>
</wsdl:portType>
<wsdl:binding name="ICIRBinding" type="tns:ICIRPortType">
<soap12:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
<wsdl:operation name="{op_traits}"><soap12:operation soapAction="{act_traits}"/>
<wsdl:input><soap12:body use="literal"/></wsdl:input><wsdl:output><soap12:body use="literal"/></wsdl:output>
</wsdl:operation>
<wsdl:operation name="{op_vitale}"><soap12:operation soapAction="{act_vitale}"/>
<wsdl:input><soap12:body use="literal"/></wsdl:input><wsdl:output><soap12:body use="literal"/></wsdl:output>
</wsdl:operation>
</wsdl:binding>
<wsdl:service name="ICIRService">
<wsdl:port name="ICIRPort" binding="tns:ICIRBinding"><soap12:address location={location}/></wsdl:port>
</wsdl:service>
</wsdl:definitions>
"""


def wsdl(location: str) -> bytes:
    """The WSDL with the endpoint address clients should call."""
    return _TEMPLATE.format(
        recsans=RECSANS_NS, recvit=RECVIT_NS, resultat=RESULTAT_NS, id=_ID,
        op_traits=Operation.TRAITS.value, act_traits=Operation.TRAITS.action,
        op_vitale=Operation.VITALE.value, act_vitale=Operation.VITALE.action,
        location=quoteattr(location),
    ).encode()
